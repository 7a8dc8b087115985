package trnsim.cli;

/** How a reporting command prints: for people (table) or for machines (json, csv). */
public enum OutputFormat {
  table,
  json,
  csv
}
