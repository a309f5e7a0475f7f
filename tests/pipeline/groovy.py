"""Running Debian's groovy (2.4, the Groovy line Jenkins pipelines use) from the tests."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
LIBRARY = REPO / "src" / "dockyard" / "jenkins" / "library" / "vars"
EXAMPLE = REPO / "examples" / "web"
DJANGO = REPO / "examples" / "django"

# Jenkins makes @NonCPS available to library code without an import; so does the checker.
_NONCPS = """package com.cloudbees.groovy.cps
import java.lang.annotation.*
@Retention(RetentionPolicy.RUNTIME) @interface NonCPS {}
"""
_CONFIG = """import org.codehaus.groovy.control.customizers.ImportCustomizer
configuration.addCompilationCustomizers(
    new ImportCustomizer().addImports('com.cloudbees.groovy.cps.NonCPS'))
"""


def environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment groovy needs: a JAVA_HOME that exists (Debian's default-java link is
    not always there)."""
    env = dict(os.environ)
    home = env.get("JAVA_HOME", "/usr/lib/jvm/default-java")
    if not Path(home, "bin", "java").exists():
        java = shutil.which("java")
        assert java, "no java on PATH: install a JDK (make test installs Debian's groovy)"
        env["JAVA_HOME"] = str(Path(os.path.realpath(java)).parents[1])
    env.update(extra or {})
    return env


def require() -> None:
    """Fail (not skip) without groovy: these checks are part of the test suite."""
    assert shutil.which("groovy") and shutil.which("groovyc"), (
        "the pipeline tests need Debian's groovy package: `make test` installs it, or run "
        "apt-get install groovy")


def compile_check(source: Path, work: Path) -> subprocess.CompletedProcess[str]:
    """Compile ``source`` as Jenkins would parse it (syntax, with @NonCPS known)."""
    require()
    stub = work / "stub"
    (stub / "com" / "cloudbees" / "groovy" / "cps").mkdir(parents=True, exist_ok=True)
    noncps = stub / "NonCPS.groovy"
    noncps.write_text(_NONCPS)
    config = work / "config.groovy"
    config.write_text(_CONFIG)
    subprocess.run(["groovyc", "-d", str(stub), str(noncps)], check=True, env=environment(),
                   capture_output=True, text=True, timeout=120)
    return subprocess.run(["groovyc", "-cp", str(stub), "--configscript", str(config), "-d",
                           str(work / "out"), str(source)], env=environment(),
                          capture_output=True, text=True, timeout=120, check=False)


def run(script: str, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
        timeout: int = 300) -> subprocess.CompletedProcess[str]:
    """Run one of this folder's groovy scripts."""
    require()
    return subprocess.run(["groovy", str(HERE / script), *args], env=environment(env),
                          cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          check=False)


def pipeline(jenkinsfile: Path, workspace: Path, branch: str, *,
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``jenkinsfile`` with dockyard's library in ``workspace`` (see harness.groovy)."""
    return run("harness.groovy", str(jenkinsfile), str(LIBRARY), str(workspace), branch,
               env=env, cwd=workspace)
