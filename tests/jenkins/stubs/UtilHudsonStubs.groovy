// hudson.util.PluginServletFilter: the filters every HTTP request passes through after
// Jenkins has authenticated it (web.xml: authentication-filter before plugins-filter).
package hudson.util

import jakarta.servlet.Filter

class PluginServletFilter {
    static final List<Filter> LIST = []

    static void addFilter(Filter filter) {
        LIST << filter
    }
}
