MATCH (h:Host)-[:HOSTS]->(e:Event)
RETURN e.id AS id, h.id AS host_id, e.title AS title, e.description AS description,
       e.category AS category, e.tags AS tags, e.start_time.epochMillis AS start_time,
       e.end_time.epochMillis AS end_time, e.price AS price, e.currency AS currency,
       e.capacity AS capacity, e.location.latitude AS lat, e.location.longitude AS lon,
       e.city AS city, e.country AS country, e.created_at.epochMillis AS created_at
