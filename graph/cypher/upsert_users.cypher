// Users of a dataset (etl/load): properties from the row, and LIVES_IN the row's city (a user
// who moved loses the old LIVES_IN). Cities exist before (upsert_cities). Times arrive as ISO
// 8601 strings with an offset and are stored as datetime; a missing value removes the property.
UNWIND $rows AS row
MERGE (u:User {id: row.id})
SET u.name = row.name,
    u.birth_year = row.birth_year,
    u.gender = row.gender,
    u.locale = row.locale,
    u.city = row.city,
    u.location = point({latitude: row.lat, longitude: row.lon}),
    u.joined_at = datetime(row.joined_at)
WITH u, row
CALL (u, row) {
  MATCH (u)-[old:LIVES_IN]->(c:City)
  WHERE row.city IS NULL OR c.name <> row.city
  DELETE old
}
CALL (u, row) {
  MATCH (c:City {name: row.city})
  MERGE (u)-[:LIVES_IN]->(c)
}
