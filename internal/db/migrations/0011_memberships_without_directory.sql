-- A membership's directory is its group's: the copy in every membership row
-- and its (directory_id, seen_gen) index were one more text-keyed B-tree for
-- each membership an event adds or removes (on the 100k-user replica 30,600
-- pages of the 566,000 memberships' 111,000). The few queries that work on a
-- whole directory's memberships (the sweep at the end of a load, a deleted
-- directory, the counts) reach them through the directory's groups instead.
DROP INDEX directory_memberships_dir;
ALTER TABLE directory_memberships DROP COLUMN directory_id;
