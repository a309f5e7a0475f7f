// jenkins.security.seed.UserSeedProperty (core 2.568.2): renewSeed() ends the user's sessions
// and remember-me cookies; the stand-in counts renewals.
package jenkins.security.seed

class UserSeedProperty {
    int renewals = 0

    void renewSeed() { renewals++ }
}
