-- The search index reads the people's words from directory_users itself
-- (FTS4 "external content", through the view below) instead of keeping its
-- own copy of them, and keeps no per-document sizes (matchinfo=fts3: Roster
-- orders matches by name, never by rank). Every change of a person's name,
-- email, title or department rewrote a row of each of those two tables, two
-- random pages of their own beside the person's row: on the bench's 100,000
-- events, 6.7 instead of 8.3 page writes and 4.8 instead of 5.8 page reads
-- per event, and in five paired runs on copies of one replica 14.3-15.9 s
-- against 16.6-19.5.
--
-- The index holds exactly the live people (deleted_at IS NULL) of the
-- directories whose sync_state.search_indexed is 1 (set once, by
-- ReplicaWriter.BuildSearchIndex): the rows of directory_user_search_content,
-- so that FTS4's own check (in PRAGMA integrity_check) compares like with
-- like. FTS4 finds the words to take out of the index in that view, so a
-- document leaves the index BEFORE its row changes and comes back AFTER.
-- A full scan of directory_user_search reads the view, not the index:
-- query it with MATCH.
DROP TRIGGER directory_users_search_ins;
DROP TRIGGER directory_users_search_upd;
DROP TRIGGER directory_users_search_del;
DROP TABLE directory_user_search;

CREATE VIEW directory_user_search_content AS
    SELECT u.pk AS rowid, u.first_name, u.last_name, u.name, u.email, u.job_title, u.department
    FROM directory_users u
    WHERE u.deleted_at IS NULL
      AND (SELECT search_indexed FROM sync_state s WHERE s.directory_id = u.directory_id) = 1;

CREATE VIRTUAL TABLE directory_user_search USING fts4(
    content="directory_user_search_content",
    first_name, last_name, name, email, job_title, department,
    matchinfo=fts3,
    tokenize=unicode61 "remove_diacritics=2"
);

INSERT INTO directory_user_search(docid, first_name, last_name, name, email, job_title, department)
    SELECT rowid, first_name, last_name, name, email, job_title, department
    FROM directory_user_search_content ORDER BY rowid;

CREATE TRIGGER directory_users_search_ins AFTER INSERT ON directory_users
WHEN new.deleted_at IS NULL
 AND (SELECT search_indexed FROM sync_state WHERE directory_id = new.directory_id) = 1
BEGIN
    INSERT INTO directory_user_search(docid, first_name, last_name, name, email, job_title, department)
    VALUES (new.pk, new.first_name, new.last_name, new.name, new.email, new.job_title, new.department);
END;

CREATE TRIGGER directory_users_search_upd_old BEFORE UPDATE ON directory_users
WHEN (old.first_name IS NOT new.first_name OR old.last_name IS NOT new.last_name
   OR old.name IS NOT new.name OR old.email IS NOT new.email
   OR old.job_title IS NOT new.job_title OR old.department IS NOT new.department
   OR old.deleted_at IS NOT new.deleted_at OR old.directory_id IS NOT new.directory_id)
 AND old.deleted_at IS NULL
 AND (SELECT search_indexed FROM sync_state WHERE directory_id = old.directory_id) = 1
BEGIN
    DELETE FROM directory_user_search WHERE docid = old.pk;
END;

CREATE TRIGGER directory_users_search_upd_new AFTER UPDATE ON directory_users
WHEN (old.first_name IS NOT new.first_name OR old.last_name IS NOT new.last_name
   OR old.name IS NOT new.name OR old.email IS NOT new.email
   OR old.job_title IS NOT new.job_title OR old.department IS NOT new.department
   OR old.deleted_at IS NOT new.deleted_at OR old.directory_id IS NOT new.directory_id)
 AND new.deleted_at IS NULL
 AND (SELECT search_indexed FROM sync_state WHERE directory_id = new.directory_id) = 1
BEGIN
    INSERT INTO directory_user_search(docid, first_name, last_name, name, email, job_title, department)
    VALUES (new.pk, new.first_name, new.last_name, new.name, new.email, new.job_title, new.department);
END;

CREATE TRIGGER directory_users_search_del BEFORE DELETE ON directory_users
WHEN old.deleted_at IS NULL
 AND (SELECT search_indexed FROM sync_state WHERE directory_id = old.directory_id) = 1
BEGIN
    DELETE FROM directory_user_search WHERE docid = old.pk;
END;
