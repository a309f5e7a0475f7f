// Runs a Jenkinsfile's declarative pipeline outside Jenkins, closely enough to check what it
// runs: stages in order, `when { branch ... }`, `script { }`, environment variables, and real
// `sh` steps in a workspace. dockyard's library steps are the real vars/*.groovy scripts,
// loaded the way Jenkins loads an implicit library, so their shell commands run for real.
//
//   groovy harness.groovy JENKINSFILE LIBRARY_VARS_DIR WORKSPACE BRANCH
//
// Prints "[stage] NAME" per stage, "ERROR: message" when a step fails, and ends with
// "Finished: SUCCESS" (exit 0) or "Finished: FAILURE" (exit 1).

import org.codehaus.groovy.control.CompilerConfiguration
import org.codehaus.groovy.control.customizers.ImportCustomizer

class StepFailure extends RuntimeException {
    StepFailure(String message) { super(message) }
}

class Stage {
    String name
    Closure whenBlock
    Closure stepsBlock
    def when(Closure c) { whenBlock = c }
    def steps(Closure c) { stepsBlock = c }
    def agent(Object o) {}
    def post(Closure c) {}
}

class Stages {
    List<Stage> all = []
    def stage(String name, Closure body) {
        Stage s = new Stage(name: name)
        body.delegate = s
        body.resolveStrategy = Closure.DELEGATE_FIRST
        body()
        all << s
    }
}

class When {
    Map env
    boolean passes = true
    def branch(String name) { passes = passes && env.BRANCH_NAME == name }
}

class Steps {
    def script(Closure c) {
        c.resolveStrategy = Closure.OWNER_FIRST
        c()
    }
}

class Top {
    Stages stages = new Stages()
    def agent(Object o) {}
    def options(Closure c) {}
    def post(Closure c) {}
    def stages(Closure c) {
        c.delegate = stages
        c.resolveStrategy = Closure.DELEGATE_FIRST
        c()
    }
}

List argv = args as List
String jenkinsfile = argv[0], libraryDir = argv[1], workspace = argv[2], branch = argv[3]
Map env = [BRANCH_NAME: branch, GIT_COMMIT: '0123456789abcdef0123456789abcdef01234567',
           WORKSPACE: workspace, WORKSPACE_TMP: "${workspace}@tmp".toString()]

// Jenkins makes @NonCPS available to library code without an import.
GroovyClassLoader loader = new GroovyClassLoader(this.class.classLoader)
loader.parseClass('''package com.cloudbees.groovy.cps
import java.lang.annotation.*
@Retention(RetentionPolicy.RUNTIME) @interface NonCPS {}''')
CompilerConfiguration config = new CompilerConfiguration()
config.addCompilationCustomizers(new ImportCustomizer().addImports('com.cloudbees.groovy.cps.NonCPS'))

Binding binding = new Binding()
binding.setVariable('env', env)
binding.setVariable('any', 'any')
binding.setVariable('echo', { Object m -> println "[echo] ${m}" })
binding.setVariable('error', { Object m -> throw new StepFailure(m.toString()) })
File here(String workspace, String path) {
    File file = new File(path)
    return file.absolute ? file : new File(workspace, path)
}
// Credentials as Jenkins binds them for a block (credentials-binding's withCredentials with a
// string binding): the values are the controller's, here HARNESS_CREDENTIALS (a JSON object,
// id -> value, for this build); an unknown id fails the step as Jenkins does.
Map credentials = System.getenv('HARNESS_CREDENTIALS') ?
    new groovy.json.JsonSlurper().parseText(System.getenv('HARNESS_CREDENTIALS')) as Map : [:]
binding.setVariable('string', { Map b -> [kind: 'string'] + b })
binding.setVariable('withCredentials', { List bindings, Closure body ->
    Map saved = [:]
    bindings.each { Map b ->
        if (!credentials.containsKey(b.credentialsId)) {
            throw new StepFailure("Could not find credentials entry with ID '${b.credentialsId}'")
        }
        saved[b.variable] = env[b.variable]
        env[b.variable] = credentials[b.credentialsId]
    }
    try {
        return body()
    } finally {
        saved.each { k, v -> v == null ? env.remove(k) : env.put(k, v) }
    }
})
binding.setVariable('pwd', { -> workspace })
binding.setVariable('fileExists', { String p -> here(workspace, p).exists() })
binding.setVariable('readFile', { String p -> here(workspace, p).getText('UTF-8') })
binding.setVariable('sh', { Object a ->
    Map step = a instanceof Map ? a : [script: a.toString()]
    String text = step.script.toString()
    File file = File.createTempFile('harness-sh', '.sh')
    file.text = text.startsWith('#!') ? text : "#!/bin/sh -xe\n${text}\n"
    file.setExecutable(true)
    ProcessBuilder process = new ProcessBuilder(file.absolutePath).directory(new File(workspace))
    process.environment().putAll(env.collectEntries { k, v -> [(k.toString()): v.toString()] })
    process.redirectErrorStream(false).inheritIO()
    println "[sh] ${step.label ?: text.readLines().findAll { !it.startsWith('#!') }.join('; ')}"
    int code = process.start().waitFor()
    file.delete()
    if (step.returnStatus) {
        return code
    }
    if (code != 0) {
        throw new StepFailure("script returned exit code ${code}")
    }
    return null
})

GroovyShell shell = new GroovyShell(loader, binding, config)
new File(libraryDir).listFiles().findAll { it.name.endsWith('.groovy') }.each { File f ->
    Script step = shell.parse(f)
    step.binding = binding
    binding.setVariable(f.name - '.groovy', { Object[] a -> step.invokeMethod('call', a) })
}

Top top = new Top()
binding.setVariable('pipeline', { Closure body ->
    body.delegate = top
    body.resolveStrategy = Closure.DELEGATE_FIRST
    body()
})
shell.parse(new File(jenkinsfile)).run()

String result = 'SUCCESS'
for (Stage stage in top.stages.all) {
    if (result != 'SUCCESS') {
        println "[stage] ${stage.name} skipped (an earlier stage failed)"
        continue
    }
    if (stage.whenBlock) {
        When when = new When(env: env)
        stage.whenBlock.delegate = when
        stage.whenBlock.resolveStrategy = Closure.DELEGATE_FIRST
        stage.whenBlock()
        if (!when.passes) {
            println "[stage] ${stage.name} skipped (when)"
            continue
        }
    }
    println "[stage] ${stage.name}"
    try {
        stage.stepsBlock.delegate = new Steps()
        stage.stepsBlock.resolveStrategy = Closure.DELEGATE_FIRST
        stage.stepsBlock()
    } catch (StepFailure failure) {
        println "ERROR: ${failure.message}"
        result = 'FAILURE'
    }
}
println "[env] IMAGE=${env.IMAGE ?: ''}"
println "Finished: ${result}"
System.exit(result == 'SUCCESS' ? 0 : 1)
