import FlapCommandLine

// flap's own executable: the built-in mutation kinds. A team's executable passes its own registry
// (Examples/team-cli).
await FlapCommandLine.main()
