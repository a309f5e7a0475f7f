// Stand-ins for the Jakarta Servlet API (jakarta.servlet 6, as Jenkins 2.568 bundles it) that
// dockyard-trust.groovy's filter uses: Filter#doFilter (init and destroy are default methods),
// a request's headers, parameters and path, a response's sendError.
package jakarta.servlet

class ServletException extends Exception {
}

interface ServletRequest {
    String getParameter(String name)
}

interface ServletResponse {
}

interface FilterChain {
    void doFilter(ServletRequest request, ServletResponse response)
        throws IOException, ServletException
}

interface Filter {
    void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
        throws IOException, ServletException
}
