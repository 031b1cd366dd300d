import Foundation

extension ExperimentConfiguration {
    /// The first setting a run cannot use, or nil. The runner checks this before it writes a journal or touches
    /// the cluster, so a bad value is an error up front, never a trap halfway through a run.
    public var problem: String? {
        let rate = self.load.arrival.rate
        if !(rate.isFinite && rate > 0) { return "load.arrival rate must be a positive number of queries per second, not \(rate)" }
        if self.load.cohort < 0 { return "load.cohort must be 0 or more, not \(self.load.cohort)" }
        if self.load.maxInFlight < 1 { return "load.maxInFlight must be at least 1, not \(self.load.maxInFlight)" }
        if self.schedule.slot <= .zero { return "schedule.slot must be longer than 0s" }
        if self.schedule.rounds < 1 { return "schedule.rounds must be at least 1, not \(self.schedule.rounds)" }
        if self.schedule.burst < 1 { return "schedule.burst must be at least 1, not \(self.schedule.burst)" }
        if self.schedule.warmupQueries < 0 { return "schedule.warmupQueries must be 0 or more" }
        if self.schedule.jitter < .zero { return "schedule.jitter must not be negative" }
        let fractions = [("flapAt", self.schedule.flapAt), ("unflapAt", self.schedule.unflapAt), ("arrivalWindow", self.schedule.arrivalWindow)]
        for (name, value) in fractions where !(value.isFinite && (0...1).contains(value)) { return "schedule.\(name) must be a fraction from 0 to 1, not \(value)" }
        if self.schedule.flapAt > self.schedule.unflapAt { return "schedule.flapAt must not come after schedule.unflapAt" }
        if let budget = self.failureBudget, budget < 0 { return "failureBudget must be 0 or more" }
        return nil
    }
}
