// Hosts of a dataset (etl/load), and the user who RUNS each one (when the row names one).
UNWIND $rows AS row
MERGE (h:Host {id: row.id})
SET h.name = row.name,
    h.kind = row.kind
WITH h, row
CALL (h, row) {
  MATCH (old_runner:User)-[old:RUNS]->(h)
  WHERE row.user_id IS NULL OR old_runner.id <> row.user_id
  DELETE old
}
CALL (h, row) {
  MATCH (u:User {id: row.user_id})
  MERGE (u)-[:RUNS]->(h)
}
