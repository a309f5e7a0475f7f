// hudson.model.User as dockyard-users.groovy uses it (core 2.568.2): records by id, created on
// demand, with their properties; save() is counted.
package hudson.model

class User {
    static final Map<String, User> RECORDS = [:]
    final String id
    final List<Object> properties = []
    int saves = 0

    User(String id) { this.id = id }

    static User getById(String id, boolean create) {
        if (!RECORDS.containsKey(id) && create) {
            RECORDS[id] = new User(id)
        }
        return RECORDS[id]
    }

    def <T> T getProperty(Class<T> type) { properties.find { type.isInstance(it) } as T }

    void addProperty(Object property) { properties << property }

    void save() { saves++ }
}
