// Events of a dataset (etl/load): properties, the host that HOSTS it, IN_CATEGORY and IN_CITY.
// A changed host, category or city replaces the old relationship. Tags arrive '|'-joined.
// status is 'scheduled' for a new event; a status set since (e.g. cancelled) is kept.
UNWIND $rows AS row
MERGE (e:Event {id: row.id})
SET e.title = row.title,
    e.description = row.description,
    e.category = row.category,
    e.tags = split(row.tags, '|'),
    e.start_time = datetime(row.start_time),
    e.end_time = datetime(row.end_time),
    e.price = row.price,
    e.currency = row.currency,
    e.capacity = row.capacity,
    e.location = point({latitude: row.lat, longitude: row.lon}),
    e.city = row.city,
    e.country = row.country,
    e.created_at = datetime(row.created_at),
    e.status = coalesce(e.status, 'scheduled')
WITH e, row
CALL (e, row) {
  MATCH (old_host:Host)-[old:HOSTS]->(e)
  WHERE old_host.id <> row.host_id
  DELETE old
}
CALL (e, row) {
  MATCH (h:Host {id: row.host_id})
  MERGE (h)-[:HOSTS]->(e)
}
CALL (e, row) {
  MATCH (e)-[old:IN_CATEGORY]->(c:Category)
  WHERE row.category IS NULL OR c.name <> row.category
  DELETE old
}
CALL (e, row) {
  MATCH (c:Category {name: row.category})
  MERGE (e)-[:IN_CATEGORY]->(c)
}
CALL (e, row) {
  MATCH (e)-[old:IN_CITY]->(c:City)
  WHERE row.city IS NULL OR c.name <> row.city
  DELETE old
}
CALL (e, row) {
  MATCH (c:City {name: row.city})
  MERGE (e)-[:IN_CITY]->(c)
}
