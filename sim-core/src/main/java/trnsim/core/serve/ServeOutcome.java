package trnsim.core.serve;

/**
 * A serving workload's result on one system, what {@code compare} and claims judge.
 *
 * @param hardware the system's name
 * @param plan one line describing the replica plan
 * @param chipsServing chips holding replicas (replicas x chips per replica)
 * @param servingUsdPerHour price per hour of the chips holding replicas (NaN: unpriced)
 * @param summary the run at the workload's rate
 * @param sweep the rate sweep, or null without one
 * @param simulatedShapes graph executions simulated (the iteration-cost memo's size)
 */
public record ServeOutcome(String hardware, String plan, double chipsServing, double servingUsdPerHour, ServeSummary summary,
    ServePlan.Sweep sweep, int simulatedShapes) {}
