// Events by id with the columns of export_events (the API embeds events created after its
// snapshot of the graph from these).
UNWIND $ids AS id
MATCH (e:Event {id: id})
OPTIONAL MATCH (h:Host)-[:HOSTS]->(e)
RETURN e.id AS id, h.id AS host_id, e.title AS title, e.description AS description,
       e.category AS category, e.tags AS tags, e.start_time.epochMillis AS start_time,
       e.end_time.epochMillis AS end_time, e.price AS price, e.currency AS currency,
       e.capacity AS capacity, e.location.latitude AS lat, e.location.longitude AS lon,
       e.city AS city, e.country AS country, e.created_at.epochMillis AS created_at
