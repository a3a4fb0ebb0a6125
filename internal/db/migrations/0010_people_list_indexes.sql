-- A page of people (BrowseUsers) walks the (directory_id, sort_key, id)
-- index and used to look up each of its rows in the table: about a hundred
-- scattered pages of a table whose rows are ~1.3 KB. Carrying the columns a
-- list shows in the index makes a page one short range of the index.
-- Measured on the 100k-user replica: 0.58 → 0.15 ms per page.
DROP INDEX directory_users_dir_sort;
CREATE INDEX directory_users_list ON directory_users(
    directory_id, sort_key, id, deleted_at, state,
    email, first_name, last_name, name, job_title, department);

-- No query looks people up by exact email (the one that matches an email
-- folds its case, which this index cannot serve); keeping it up to date was
-- a third of the cost of storing a user.
DROP INDEX directory_users_dir_email;

