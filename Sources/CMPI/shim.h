// Open MPI's predefined handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, MPI_IN_PLACE, ...) are macros over globals,
// which Swift does not import; these accessors return them.
#include <mpi.h>

static inline MPI_Comm _Nonnull deeplense_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype _Nonnull deeplense_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype _Nonnull deeplense_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Op _Nonnull deeplense_mpi_sum(void) { return MPI_SUM; }
static inline void * _Nonnull deeplense_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline MPI_Info _Nonnull deeplense_mpi_info_null(void) { return MPI_INFO_NULL; }
static inline int deeplense_mpi_comm_type_shared(void) { return MPI_COMM_TYPE_SHARED; }
static inline int deeplense_mpi_thread_funneled(void) { return MPI_THREAD_FUNNELED; }
static inline int deeplense_mpi_success(void) { return MPI_SUCCESS; }
