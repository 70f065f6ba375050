print('before the import')
import no_such_module_for_piplock
