import Core

/// Runs `body` with `module` in training mode (batch-norm layers normalise with batch statistics) but leaves every
/// buffer (running means, variances, batch counters) exactly as it was: PyTorch's "batch statistics without
/// updating the running statistics", which AdaMatch's source-only pass needs (Berthelot et al. 2022, section 3.1).
public func withoutRunningStatisticsUpdate<R>(_ module: Module, _ body: () throws -> R) rethrows -> R {
    let buffers = module.namedTensors().filter(\.isBuffer)
    let saved = buffers.map { $0.tensor.scalars }
    defer { for (b, values) in zip(buffers, saved) { b.tensor.assign(values) } }
    return try body()
}
