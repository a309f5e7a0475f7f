// io.jenkins.plugins.casc.SecretSource (configuration-as-code): the sources JCasC resolves
// ${name} through; the driver installs one that reads a map.
package io.jenkins.plugins.casc

abstract class SecretSource {
    static final List<SecretSource> SOURCES = []

    void init() {}

    abstract Optional<String> reveal(String secret) throws IOException

    static List<SecretSource> all() { SOURCES }
}
