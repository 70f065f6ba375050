import signal
for name in ('SIGINT', 'SIGTERM', 'SIGHUP', 'SIGPIPE', 'SIGXFSZ', 'SIGCHLD', 'SIGUSR1', 'SIGALRM'):
    h = signal.getsignal(getattr(signal, name))
    print(name, getattr(h, '__name__', h))
print(sorted(signal.pthread_sigmask(signal.SIG_BLOCK, [])))
