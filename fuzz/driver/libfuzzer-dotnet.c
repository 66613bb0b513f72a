// libFuzzer's side of a .NET fuzz target: libFuzzer links this file, starts the .NET program
// once, and for each input copies it into shared memory, tells the program its length over a
// pipe, waits for the program's verdict on another, and hands libFuzzer the branch coverage
// the program's instrumented code (SharpFuzz) left in the same shared memory. It speaks the
// protocol of SharpFuzz's Fuzzer.LibFuzzer.Run, as libfuzzer-dotnet does; unlike that driver,
// a program that dies (stack overflow, out of memory, an abort) is reported as a crash of
// the current input, so that libFuzzer saves the input that killed it.
//
// Build: clang -O2 -fsanitize=fuzzer libfuzzer-dotnet.c -o libfuzzer-dotnet
// Run:   libfuzzer-dotnet --target_path=dotnet --target_arg=Usernet.Fuzz.dll --target_arg=dns [libFuzzer flags] CORPUS...
// libFuzzer ignores flags that start with "--", so these two pass through it untouched.

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

// The coverage map and the largest input: SharpFuzz's MapSize, and 1 MiB.
#define MAP_SIZE (1 << 16)
#define DATA_SIZE (1 << 20)
#define MAX_ARGS 16

// The descriptors the program finds its pipes on, as SharpFuzz expects them in its environment.
#define CONTROL_FD 198
#define STATUS_FD 199

// libFuzzer reads this section as extra coverage counters after each input.
__attribute__((weak, section("__libfuzzer_extra_counters"))) uint8_t extra_counters[MAP_SIZE];

static int control_fd;
static int status_fd;
static int shm_id = -1;
static uint8_t *shared;
static pid_t child;

static void fail(const char *what)
{
    fprintf(stderr, "libfuzzer-dotnet: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void stop_program(void)
{
    if (child > 0)
    {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
    }
}

static const char *flag_value(const char *argument, const char *name)
{
    size_t length = strlen(name);
    return strncmp(argument, name, length) == 0 && argument[length] == '=' ? argument + length + 1 : NULL;
}

// Reads or writes exactly 4 bytes, retrying on EINTR; returns the count done (0 at end of file).
static ssize_t transfer(int fd, void *word, int writing)
{
    ssize_t done;
    do
    {
        done = writing ? write(fd, word, 4) : read(fd, word, 4);
    } while (done < 0 && errno == EINTR);
    return done;
}

// The program is gone or broke the protocol: say how, then let libFuzzer record this input.
static void program_died(const char *how)
{
    int status = 0;
    fprintf(stderr, "libfuzzer-dotnet: the .NET program %s", how);
    if (child > 0 && waitpid(child, &status, 0) == child)
    {
        if (WIFSIGNALED(status))
        {
            fprintf(stderr, " (killed by signal %d)", WTERMSIG(status));
        }
        else if (WIFEXITED(status))
        {
            fprintf(stderr, " (exit status %d)", WEXITSTATUS(status));
        }
        child = 0;
    }
    fprintf(stderr, "\n");
    __builtin_trap();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *path = NULL;
    char *arguments[MAX_ARGS + 2];
    int count = 0;
    for (int i = 1; i < *argc; i++)
    {
        const char *value;
        if ((value = flag_value((*argv)[i], "--target_path")) != NULL)
        {
            path = value;
        }
        else if ((value = flag_value((*argv)[i], "--target_arg")) != NULL && count < MAX_ARGS)
        {
            arguments[1 + count++] = (char *)value;
        }
    }
    if (path == NULL)
    {
        fprintf(stderr, "libfuzzer-dotnet: --target_path=PROGRAM is required\n");
        exit(1);
    }
    arguments[0] = (char *)path;
    arguments[1 + count] = NULL;

    int control[2], status[2];
    if (pipe(control) != 0 || pipe(status) != 0)
    {
        fail("pipe");
    }
    shm_id = shmget(IPC_PRIVATE, MAP_SIZE + DATA_SIZE, IPC_CREAT | IPC_EXCL | 0600);
    if (shm_id < 0)
    {
        fail("shmget");
    }
    shared = shmat(shm_id, NULL, 0);
    if (shared == (void *)-1)
    {
        fail("shmat");
    }

    child = fork();
    if (child < 0)
    {
        fail("fork");
    }
    if (child == 0)
    {
        // libFuzzer ends with _exit on a timeout or crash: the program must not outlive it.
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        char id[16];
        snprintf(id, sizeof id, "%d", shm_id);
        if (dup2(control[0], CONTROL_FD) < 0 || dup2(status[1], STATUS_FD) < 0)
        {
            fail("dup2");
        }
        close(control[0]);
        close(control[1]);
        close(status[0]);
        close(status[1]);
        setenv("__LIBFUZZER_SHM_ID", id, 1);
        setenv("__LIBFUZZER_CONTROL_PIPE_ID", "198", 1);
        setenv("__LIBFUZZER_STATUS_PIPE_ID", "199", 1);
        execvp(path, arguments);
        fail("exec");
    }
    atexit(stop_program);
    close(control[0]);
    close(status[1]);
    control_fd = control[1];
    status_fd = status[0];
    // A broken pipe is seen as a short write, not as a signal that ends libFuzzer unreported.
    signal(SIGPIPE, SIG_IGN);

    // The program says it is ready with a first status word.
    int32_t ready;
    if (transfer(status_fd, &ready, 0) != 4)
    {
        program_died("did not start");
    }
    // Both sides are attached: the segment goes away with the last of them, however they end.
    shmctl(shm_id, IPC_RMID, NULL);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > DATA_SIZE)
    {
        return 0;
    }
    memset(shared, 0, MAP_SIZE);
    memcpy(shared + MAP_SIZE, data, size);
    int32_t length = (int32_t)size;
    if (transfer(control_fd, &length, 1) != 4)
    {
        program_died("stopped reading inputs");
    }
    int32_t verdict;
    ssize_t got = transfer(status_fd, &verdict, 0);
    memcpy(extra_counters, shared, MAP_SIZE);
    if (got != 4)
    {
        program_died("died on this input");
    }
    if (verdict != 0)
    {
        // An exception left the target: SharpFuzz has printed it, and ends the program.
        __builtin_trap();
    }
    return 0;
}
