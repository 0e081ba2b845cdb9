// Which of the given ids do not exist (the API's write endpoints check references first).
RETURN [id IN $users WHERE NOT EXISTS { MATCH (:User {id: id}) }] AS users,
       [id IN $events WHERE NOT EXISTS { MATCH (:Event {id: id}) }] AS events,
       [id IN $hosts WHERE NOT EXISTS { MATCH (:Host {id: id}) }] AS hosts
