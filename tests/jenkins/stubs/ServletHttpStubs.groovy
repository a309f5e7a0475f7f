package jakarta.servlet.http

import jakarta.servlet.ServletRequest
import jakarta.servlet.ServletResponse

interface HttpServletRequest extends ServletRequest {
    String getHeader(String name)
    String getRequestURI()
    String getContextPath()
    String getServletPath()
    String getPathInfo()
}

interface HttpServletResponse extends ServletResponse {
    void sendError(int status, String message) throws IOException
}
