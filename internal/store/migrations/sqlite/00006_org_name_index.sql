-- +goose Up
-- The directory lists organisations ORDER BY lower(name), id: without this
-- index every page sorted the whole table (bench/README.md, finding 1).
CREATE INDEX organizations_name ON organizations (lower(name), id);
