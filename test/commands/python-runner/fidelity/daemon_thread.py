import threading, time
def forever():
    time.sleep(30)
    print('never')
threading.Thread(target=forever, daemon=True).start()
print('main returns while a daemon thread sleeps')
