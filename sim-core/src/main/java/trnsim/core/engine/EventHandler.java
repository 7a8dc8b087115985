package trnsim.core.engine;

/**
 * Receives events. A component dispatches on {@code kind} (its own small event vocabulary) and
 * {@code arg}, so scheduling an event allocates nothing.
 */
@FunctionalInterface
public interface EventHandler {
  void handle(int kind, long arg);
}
