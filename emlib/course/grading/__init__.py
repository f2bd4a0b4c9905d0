"""Grading that a student cannot forge and that no submission can harm.

The pieces, by where they run:

in the grader's process (never imports or runs student code)
    :mod:`.judge`   draws the hidden cases of every task from a per-submission seed, sends them
                    as plain data, reads the answers back as plain data, and runs each task's
                    check body on them (the student's function replaced by a replay of its
                    answers), so the verdict is computed here, against emlib's reference;
    :mod:`.scan`    a static scan of the submitted source for off-limits help;
    :mod:`.sandbox` the emlib snapshot, the sandbox's configuration, its limits, and running it.

in the sandbox (namespaces; the student's code as an unprivileged user)
    :mod:`.jail`    PID 1: hides the course, mounts the snapshot read-only, drops privileges,
                    starts the worker under limits, kills everything at the end, copies the
                    answers out;
    :mod:`.worker`  runs the notebook in a kernel, then one answering cell per task;
    :mod:`.harness` in the kernel: calls the student's function on each case and writes what it
                    returned, and which emlib functions ran meanwhile, as data;
    :mod:`.wire`    the data format both sides share (JSON and ``.npz`` without pickles).

The command line is :mod:`emlib.course.grade`.
"""
