/*
 * import_ref: pdsctl import-reference, run as "pdsd import-reference"
 * (pdsctl executes it: the conversion needs pdsd's store).  Converts a
 * stopped reference PDS's data directory into a new pdsd data
 * directory.  See pdsctl(8).
 */
#ifndef PDSD_IMPORT_REF_H
#define PDSD_IMPORT_REF_H

/* argv[0] is "import-reference"; returns the exit status. */
int	import_ref_main(int argc, char *argv[]);

#endif
