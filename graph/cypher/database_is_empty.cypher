// Whether the database holds no node at all (etl/load picks the bulk importer for an empty one).
MATCH (n)
RETURN count(n) = 0 AS empty
