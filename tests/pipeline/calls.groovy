// Prints the name of every method a Groovy file calls (one per line), from its syntax tree:
// what a Jenkinsfile asks of Jenkins and of its libraries.
//
//   groovy calls.groovy FILE

import org.codehaus.groovy.ast.ClassCodeVisitorSupport
import org.codehaus.groovy.ast.expr.MethodCallExpression
import org.codehaus.groovy.control.CompilationUnit
import org.codehaus.groovy.control.Phases
import org.codehaus.groovy.control.SourceUnit

class Calls extends ClassCodeVisitorSupport {
    SortedSet<String> names = new TreeSet<String>()
    SourceUnit sourceUnit
    protected SourceUnit getSourceUnit() { sourceUnit }
    void visitMethodCallExpression(MethodCallExpression call) {
        if (call.implicitThis) {
            names << call.methodAsString
        }
        super.visitMethodCallExpression(call)
    }
}

CompilationUnit unit = new CompilationUnit()
SourceUnit source = unit.addSource(new File(args[0]))
unit.compile(Phases.CONVERSION)
Calls calls = new Calls(sourceUnit: source)
source.AST.statementBlock.visit(calls)
source.AST.methods.each { it.code?.visit(calls) }
calls.names.each { println it }
