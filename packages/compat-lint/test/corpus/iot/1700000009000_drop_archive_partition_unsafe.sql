-- expect: drop-table
DROP TABLE readings_archive_2024;
