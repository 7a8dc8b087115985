package trnsim.core.serve;

/** What an iteration costs on one replica: the serving loop's only view of the hardware. */
public interface IterationCosts {
  /** Time and energy of one iteration. */
  Cost cost(Iteration it);

  /** Static power of one replica's chips when idle, W (NaN when unknown). */
  double idlePowerW();

  /**
   * @param seconds wall time of the iteration
   * @param joules energy of the replica's chips during it (NaN when unknown)
   */
  record Cost(double seconds, double joules) {
    Cost plus(Cost o) {
      return new Cost(seconds + o.seconds, joules + o.joules);
    }

    static final Cost ZERO = new Cost(0, 0);
  }
}
