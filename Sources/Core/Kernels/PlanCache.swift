/// Per-geometry plans of the register-blocked kernels (pixel orders, tap and gather lists), built once and shared by
/// every call and thread. The cache empties itself before its plans would exceed `limit` in total `size` (each
/// kernel measures its plans in the entries of their largest arrays), so a sweep over many shapes stays bounded.
final class PlanCache<Plan: AnyObject>: @unchecked Sendable {
    private let plans = LockedValue<[ConvGeometry: Plan]>([:])
    private let limit: Int
    private let size: (Plan) -> Int
    private let make: (ConvGeometry) -> Plan

    init(limit: Int, size: @escaping (Plan) -> Int, make: @escaping (ConvGeometry) -> Plan) {
        self.limit = limit
        self.size = size
        self.make = make
    }

    /// The cached plan for `g`, built on first use.
    func plan(_ g: ConvGeometry) -> Plan {
        if let plan = plans.withLock({ $0[g] }) { return plan }
        let plan = make(g)
        plans.withLock { cache in
            if cache.values.reduce(size(plan), { $0 + size($1) }) > limit { cache.removeAll() }
            cache[g] = plan
        }
        return plan
    }
}
