MATCH (u:User)
RETURN u.id AS id, u.birth_year AS birth_year, u.gender AS gender, u.locale AS locale,
       u.city AS city, u.location.latitude AS lat, u.location.longitude AS lon,
       u.joined_at.epochMillis AS joined_at
