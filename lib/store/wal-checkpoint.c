/* Checkpoints of an SQLite connection's WAL, large ones on a thread of
 * their own. */
#include "store/wal-checkpoint.h"

#include "common/event.h"

typedef struct {
    char *path;
    GMutex lock;
    GCond wake;
    GThread *thread;
    gboolean wanted;       /* a checkpoint is asked for */
    gboolean running;      /* the thread checkpoints */
    gboolean stopping;     /* detached: finish what was asked, then end */
    gboolean reported;     /* a failure was logged already */
    gboolean checkpointed; /* a checkpoint was run or asked for (of the
                              connection's own thread only) */
    int frames;            /* the WAL's size after the last commit */
} Checkpointer;

/* Logs the first failure of a checkpointer: the WAL only grows until
 * the next checkpoint succeeds, nothing is lost. */
static void
report(Checkpointer *c, const char *what, const char *why)
{
    if (c->reported)
        return;
    c->reported = TRUE;
    CqEvent *ev = cq_event_begin(CQ_LOG_WARNING, "wal-checkpoint-failed");
    cq_event_add(ev, "database", c->path);
    cq_event_add(ev, "step", what);
    cq_event_add(ev, "error", why);
    cq_event_end(ev);
}

static sqlite3 *
open_own(Checkpointer *c)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(c->path, &db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);

    if (rc != SQLITE_OK) {
        report(c, "open", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close_v2(db);
        return NULL;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
    /* A connection that has not read the database yet has not opened its
     * WAL either, and a checkpoint on it does nothing. */
    rc = sqlite3_exec(db,
                      "PRAGMA journal_mode=WAL;"
                      "PRAGMA journal_size_limit=" CQ_WAL_SIZE_LIMIT,
                      NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        report(c, "open", sqlite3_errmsg(db));
        sqlite3_close_v2(db);
        return NULL;
    }
    return db;
}

/* A PASSIVE checkpoint is busy when another one runs: that one does the
 * work. */
static void
checkpoint(Checkpointer *c, sqlite3 *db)
{
    int rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE,
                                       NULL, NULL);

    if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY)
        report(c, "checkpoint", sqlite3_errmsg(db));
}

static gpointer
run(gpointer data)
{
    Checkpointer *c = data;
    sqlite3 *db = NULL;

    g_mutex_lock(&c->lock);
    for (;;) {
        while (!c->wanted && !c->stopping)
            g_cond_wait(&c->wake, &c->lock);
        if (!c->wanted)
            break;
        c->wanted = FALSE;
        c->running = TRUE;
        g_mutex_unlock(&c->lock);
        if (db == NULL)
            db = open_own(c);
        if (db != NULL)
            checkpoint(c, db);
        g_mutex_lock(&c->lock);
        c->running = FALSE;
    }
    g_mutex_unlock(&c->lock);
    sqlite3_close_v2(db);
    return NULL;
}

/* Whether the thread has a checkpoint to do or is doing one. */
static gboolean
thread_busy(Checkpointer *c)
{
    g_mutex_lock(&c->lock);
    gboolean busy = c->wanted || c->running;
    g_mutex_unlock(&c->lock);
    return busy;
}

/* Hands a checkpoint to the thread, starting it if need be; FALSE when
 * no thread can be started. */
static gboolean
ask_thread(Checkpointer *c)
{
    g_mutex_lock(&c->lock);
    if (c->thread == NULL)
        c->thread = g_thread_try_new("caqmail-wal", run, c, NULL);
    c->wanted = c->thread != NULL;
    g_cond_signal(&c->wake);
    g_mutex_unlock(&c->lock);
    return c->thread != NULL;
}

/* Called by SQLite after each commit with the WAL's size in frames. */
static int
on_commit(void *data, sqlite3 *db, const char *name, int frames)
{
    Checkpointer *c = data;

    c->frames = frames;
    if (frames < CQ_WAL_CHECKPOINT_FRAMES)
        return SQLITE_OK;
    c->checkpointed = TRUE;
    /* The frames of this commit wait for the next checkpoint. */
    if (thread_busy(c))
        return SQLITE_OK;
    if (frames >= CQ_WAL_BACKGROUND_FRAMES && ask_thread(c))
        return SQLITE_OK;
    sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    return SQLITE_OK;
}

void
cq_wal_checkpointer_attach(sqlite3 *db, const char *path)
{
    Checkpointer *c = g_new0(Checkpointer, 1);

    c->path = g_strdup(path);
    g_mutex_init(&c->lock);
    g_cond_init(&c->wake);
    sqlite3_wal_hook(db, on_commit, c);
}

void
cq_wal_checkpointer_detach(sqlite3 *db)
{
    Checkpointer *c = sqlite3_wal_hook(db, NULL, NULL);

    if (c == NULL)
        return;
    g_mutex_lock(&c->lock);
    c->stopping = TRUE;
    g_cond_signal(&c->wake);
    g_mutex_unlock(&c->lock);
    if (c->thread != NULL)
        g_thread_join(c->thread);
    /* Without waiting: where another connection reads or writes, this
     * copies what it can and leaves the WAL to that one. */
    if (c->checkpointed || c->frames >= CQ_WAL_CLOSE_FRAMES) {
        sqlite3_busy_timeout(db, 0);
        sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL,
                                  NULL);
    }
    g_mutex_clear(&c->lock);
    g_cond_clear(&c->wake);
    g_free(c->path);
    g_free(c);
}
