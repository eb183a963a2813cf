#if MPI
import CMPI
import Core
import Foundation

/// The ranks of `MPI_COMM_WORLD` as a `Communicator` (Open MPI through the `CMPI` system library; built with the
/// package trait `MPI`). MPI is initialised with `MPI_THREAD_FUNNELED`: only the thread that made the communicator
/// calls MPI; the compute threads never do.
public final class MPICommunicator: Communicator {
    public let rank: Int
    public let size: Int
    /// Ranks of this run on the same machine (they share its cores).
    public let localSize: Int
    private var finalized = false

    /// Initialises MPI (once per process). Throws when MPI cannot start.
    public init() throws {
        var provided: Int32 = 0
        guard MPI_Init_thread(nil, nil, Int32(deeplense_mpi_thread_funneled()), &provided) == deeplense_mpi_success() else {
            throw MPIError("MPI_Init_thread failed")
        }
        var rank: Int32 = 0, size: Int32 = 0
        MPI_Comm_rank(deeplense_mpi_comm_world(), &rank)
        MPI_Comm_size(deeplense_mpi_comm_world(), &size)
        var local: MPI_Comm? = nil
        var localSize: Int32 = 1
        if MPI_Comm_split_type(deeplense_mpi_comm_world(), Int32(deeplense_mpi_comm_type_shared()), rank,
                               deeplense_mpi_info_null(), &local) == deeplense_mpi_success() {
            MPI_Comm_size(local, &localSize)
            MPI_Comm_free(&local)
        }
        self.rank = Int(rank)
        self.size = Int(size)
        self.localSize = Int(max(1, localSize))
    }

    public func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) {
        check(MPI_Allreduce(deeplense_mpi_in_place(), buffer.baseAddress, Int32(buffer.count), deeplense_mpi_float(),
                            deeplense_mpi_sum(), deeplense_mpi_comm_world()), "MPI_Allreduce")
    }

    public func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) {
        check(MPI_Allreduce(deeplense_mpi_in_place(), buffer.baseAddress, Int32(buffer.count), deeplense_mpi_double(),
                            deeplense_mpi_sum(), deeplense_mpi_comm_world()), "MPI_Allreduce")
    }

    public func broadcast(_ buffer: UnsafeMutableBufferPointer<Float>, root: Int) {
        check(MPI_Bcast(buffer.baseAddress, Int32(buffer.count), deeplense_mpi_float(), Int32(root),
                        deeplense_mpi_comm_world()), "MPI_Bcast")
    }

    /// Ends MPI cleanly (every rank must call it).
    public func finalize() {
        guard !finalized else { return }
        finalized = true
        MPI_Finalize()
    }

    /// Stops every rank of the run with `code` (after an error on this rank, so the others do not wait forever).
    public func abort(code: Int32) -> Never {
        MPI_Abort(deeplense_mpi_comm_world(), code)
        exit(code)
    }

    /// MPI's default error handler aborts the job on a failed call; this catches handlers that return instead.
    private func check(_ status: Int32, _ call: String) {
        if status != deeplense_mpi_success() {
            FileHandle.standardError.write(Data("error: \(call) failed with MPI error \(status) on rank \(rank)\n".utf8))
            abort(code: 1)
        }
    }
}

/// MPI could not start.
public struct MPIError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
#endif
