package trnsim.isa;

/** Handle to an instruction already added to a core program: its queue and position. */
public record Op(int queue, int index) {}
