package jenkins.util

class NonLocalizable {
    final String text

    NonLocalizable(String text) { this.text = text }

    String toString() { text }
}
