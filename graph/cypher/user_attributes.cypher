// Users by id with the columns of export_users (the API embeds users created after its snapshot
// of the graph from these).
UNWIND $ids AS id
MATCH (u:User {id: id})
RETURN u.id AS id, u.birth_year AS birth_year, u.gender AS gender, u.locale AS locale,
       u.city AS city, u.location.latitude AS lat, u.location.longitude AS lon,
       u.joined_at.epochMillis AS joined_at
