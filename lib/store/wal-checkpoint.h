/* Checkpoints of an SQLite connection's WAL.
 *
 * SQLite copies the WAL back into the database inside the commit that
 * makes it grow past its threshold, so the thread that committed waits
 * for that copy and its flush to disk.  For a WAL of a few commits that
 * is short, and a connection given a checkpointer still does it there,
 * as SQLite would.  Only a commit of a large message or import makes the
 * WAL much larger than the threshold: then the copy goes to a thread
 * with a connection of its own, started when first needed, and the
 * committing thread goes on at once (a large mail is sent while its
 * pages are copied).  Every checkpoint is PASSIVE: it never waits for
 * readers or writers and never holds them up.
 *
 * Each process rebuilds the WAL's index from the file when it opens the
 * database alone, and then no longer knows which frames were copied
 * already: a WAL restarts only when a checkpoint and the next write fall
 * into the same process.  So that short processes do not let it grow
 * without end, a connection that checkpointed empties the WAL when it is
 * detached, unless another connection is busy with it.
 */
#ifndef CQ_STORE_WAL_CHECKPOINT_H
#define CQ_STORE_WAL_CHECKPOINT_H

#include <glib.h>
#include <sqlite3.h>

/* The WAL size, in frames (pages), that asks for a checkpoint: SQLite's
 * own default threshold. */
#define CQ_WAL_CHECKPOINT_FRAMES 1000

/* The WAL size, in frames, from which the copy goes to the thread. */
#define CQ_WAL_BACKGROUND_FRAMES (4 * CQ_WAL_CHECKPOINT_FRAMES)

/* The WAL size, in frames, from which a connection that wrote empties
 * the WAL when it is detached.  The next process to open the database
 * alone reads the whole WAL to rebuild its index (a few microseconds a
 * frame); emptying costs two flushes to disk.  Per command of a few
 * commits, this size makes the sum of both least. */
#define CQ_WAL_CLOSE_FRAMES 128

/* The size a WAL is cut back to once checkpointed, in bytes: a large
 * message must not leave a large file behind. */
#define CQ_WAL_SIZE_LIMIT "67108864"

/* Replaces @db's automatic checkpoints by a checkpointer for the
 * database at @path. */
void cq_wal_checkpointer_attach(sqlite3 *db, const char *path);

/* Waits for the checkpoint running on the thread, if any, and ends it;
 * empties the WAL if @db checkpointed.  @db is left without automatic
 * checkpoints and without a busy timeout: call this just before closing
 * it. */
void cq_wal_checkpointer_detach(sqlite3 *db);

#endif
