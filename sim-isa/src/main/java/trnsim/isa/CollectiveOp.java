package trnsim.isa;

/** Collective communication operations across chips (executed by the multi-chip model). */
public enum CollectiveOp {
  ALL_REDUCE, ALL_GATHER, REDUCE_SCATTER, ALL_TO_ALL, SEND_RECV
}
