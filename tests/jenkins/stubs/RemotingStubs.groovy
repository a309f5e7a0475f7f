package hudson.remoting

class Channel {
}
