package trnsim.core.run;

/**
 * How busy one kind of engine was over a run, across the cores the program used.
 *
 * @param name engine kind (tensor, vector, scalar, gpsimd, dma)
 * @param busyFraction busy time / (cores used x simulated time), in [0, 1]
 * @param stallFraction time blocked on dependencies / (cores used x simulated time)
 * @param instructions instructions executed
 */
public record EngineUse(String name, double busyFraction, double stallFraction, long instructions) {}
