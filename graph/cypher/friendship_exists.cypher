// Whether two users are already friends (either direction).
RETURN EXISTS { MATCH (:User {id: $user_id})-[:FRIENDS_WITH]-(:User {id: $friend_id}) } AS exists
