# The reference package's ResNet18 and ADDA step (deeplense-domain-adaptation 1.0.0, PyTorch) on our simulated data, with per-step and per-epoch logging.
# usage: reference_adda.py DATA SEED EPOCHS OUT.jsonl [options]   (a venv outside the repository: torch torchvision scikit-learn safetensors, then pip install --no-deps deeplense-domain-adaptation==1.0.0)
#   --init-from RUN   start ADDA from our exported source model (RUN/enc.safetensors, RUN/head.safetensors)
#                     instead of training the reference source-only model
#   --save-source F   save the trained reference source model (torch state) to F; --load-source F reuses it
#   --flip            random horizontal and vertical flips of each source and target batch (as ours does)
#   --detach-once     one target forward per step (ours): its batch updates the running stats once, not twice
#   --no-bn-drift     target encoder's BN layers use batch stats in training but never update running stats
# Per 10 steps: discriminator loss, discriminator accuracy on the batch, target-encoder loss.
# Per epoch (diagnostics): Model B test accuracy with the target encoder's running statistics (what the reference
# predicts with) and with statistics re-estimated on B train (ours); source accuracy of the target encoder on the
# 10 % hold-out and on A test, with its running statistics and with statistics of those images (ours).
import sys, time, json, argparse, copy, numpy as np, torch, torch.nn as nn, torch.optim as optim
from sklearn.metrics import roc_auc_score
ap = argparse.ArgumentParser()
ap.add_argument("data"); ap.add_argument("seed", type=int); ap.add_argument("epochs", type=int); ap.add_argument("out")
ap.add_argument("--init-from"); ap.add_argument("--save-source"); ap.add_argument("--load-source")
ap.add_argument("--flip", action="store_true"); ap.add_argument("--detach-once", action="store_true")
ap.add_argument("--no-bn-drift", action="store_true")
a = ap.parse_args()
torch.set_num_threads(2); torch.manual_seed(a.seed); np.random.seed(1)
from deeplense_domain_adaptation.networks.resnet import Encoder, Classifier
from deeplense_domain_adaptation.networks.discriminator import Discriminator
d = a.data
log = open(a.out, "w")
def emit(**kw): log.write(json.dumps(kw) + "\n"); log.flush(); print(json.dumps(kw), flush=True)
def load(p, s):
    x = np.load(f"{d}/{p}_{s}_data.npy").astype(np.float32); y = np.load(f"{d}/{p}_{s}_labels.npy").reshape(-1).astype(np.int64)
    return torch.from_numpy(x), torch.from_numpy(y)
xa, ya = load('a','train'); xat, yat = load('a','test'); xb, yb = load('b','train'); xbt, ybt = load('b','test')
n = len(xa); perm = torch.randperm(n); nv = n//10
xv, yv = xa[perm[:nv]], ya[perm[:nv]]; xtr, ytr = xa[perm[nv:]], ya[perm[nv:]]
def batches(x, y, bs, shuffle=True):
    idx = torch.randperm(len(x)) if shuffle else torch.arange(len(x))
    for i in range(0, len(x), bs): j = idx[i:i+bs]; yield x[j], y[j]
@torch.no_grad()
def evaluate(enc, clf, x, y):
    enc.eval(); clf.eval(); ps = []
    for xb_, _ in batches(x, y, 256, False): ps.append(torch.softmax(clf(enc(xb_)), 1))
    p = torch.cat(ps); acc = (p.argmax(1) == y).float().mean().item()*100
    auc = roc_auc_score(y.numpy(), p.numpy(), multi_class='ovr', average='macro')
    return acc, auc
def bns(m): return [x for x in m.modules() if isinstance(x, nn.BatchNorm2d)]
@torch.no_grad()
def evaluate_restat(enc, clf, x, y, xstat, bs=32):
    """Accuracy with every BN's running statistics re-estimated on xstat (cumulative average), then restored."""
    saved = [(b.running_mean.clone(), b.running_var.clone(), b.momentum) for b in bns(enc)]
    for b in bns(enc): b.reset_running_stats(); b.momentum = None
    enc.train()
    for i in range(0, len(xstat), bs):
        if len(xstat[i:i+bs]) > 1: enc(xstat[i:i+bs])
    r = evaluate(enc, clf, x, y)
    for b, (m_, v_, mo) in zip(bns(enc), saved): b.running_mean.copy_(m_); b.running_var.copy_(v_); b.momentum = mo
    return r
def flip(x):
    h = torch.rand(len(x)) < 0.5; v = torch.rand(len(x)) < 0.5
    x = x.clone(); x[h] = x[h].flip(-1); x[v] = x[v].flip(-2); return x
E = a.epochs; ce = nn.CrossEntropyLoss(); t0 = time.time()
enc, clf = Encoder('18'), Classifier()
if a.init_from:
    from safetensors.torch import load_file
    enc.resnet.load_state_dict(load_file(f"{a.init_from}/enc.safetensors"))
    clf.fc.load_state_dict({k.split(".")[-1]: v for k, v in load_file(f"{a.init_from}/head.safetensors").items()})
elif a.load_source:
    s = torch.load(a.load_source); enc.load_state_dict(s[0]); clf.load_state_dict(s[1])
else:
    opt = optim.Adam(list(enc.parameters())+list(clf.parameters()), lr=1e-3, weight_decay=5e-5)
    steps = (len(xtr)+31)//32
    sch = optim.lr_scheduler.OneCycleLR(opt, 1e-3, epochs=E, steps_per_epoch=steps)
    best = -1
    for ep in range(E):
        enc.train(); clf.train()
        for x, y in batches(xtr, ytr, 32):
            opt.zero_grad(); l = ce(clf(enc(x)), y); l.backward(); opt.step(); sch.step()
        va, _ = evaluate(enc, clf, xv, yv)
        if va > best: best = va; state = ({k: v.clone() for k, v in enc.state_dict().items()}, {k: v.clone() for k, v in clf.state_dict().items()})
        emit(phase="source-only", epoch=ep+1, val=va, seconds=round(time.time()-t0, 1))
    enc.load_state_dict(state[0]); clf.load_state_dict(state[1])
    if a.save_source: torch.save(state, a.save_source)
def epoch_record(ep, tgt, extra={}):
    bt = evaluate(tgt, clf, xbt, ybt); bt_ab = evaluate_restat(tgt, clf, xbt, ybt, xb)
    sv = evaluate(tgt, clf, xv, yv)[0]; sv_own = evaluate_restat(tgt, clf, xv, yv, xv)[0]
    at = evaluate(tgt, clf, xat, yat)[0]; at_own = evaluate_restat(tgt, clf, xat, yat, xat)[0]
    emit(phase="adda", epoch=ep, b_test_running=bt[0], b_test_running_auc=bt[1], b_test_adabn=bt_ab[0], b_test_adabn_auc=bt_ab[1],
         src_val_running=sv, src_val_own_stats=sv_own, a_test_running=at, a_test_own_stats=at_own,
         seconds=round(time.time()-t0, 1), **extra)
emit(phase="source-model", a_test=evaluate(enc, clf, xat, yat), b_test=evaluate(enc, clf, xbt, ybt),
     b_test_adabn=evaluate_restat(enc, clf, xbt, ybt, xb))
tgt = copy.deepcopy(enc); disc = Discriminator()
for p in list(enc.parameters())+list(clf.parameters()): p.requires_grad = False
enc.eval(); clf.eval()
if a.no_bn_drift:
    for b in bns(tgt): b.momentum = 0.0
ot = optim.Adam(tgt.parameters(), lr=1e-5, weight_decay=5e-5); od = optim.Adam(disc.parameters(), lr=1e-4, weight_decay=5e-5)
epoch_record(0, tgt)
step = 0
for ep in range(E):
    tgt.train(); disc.train(); sums = {"ld": 0., "dacc": 0., "le": 0.}; k = 0
    for (xs, _), (xt, _) in zip(batches(xtr, ytr, 32), batches(xb, yb, 32)):
        if a.flip: xs, xt = flip(xs), flip(xt)
        od.zero_grad()
        fs = enc(xs); ft = tgt(xt)
        out = torch.cat([disc(fs), disc(ft.detach() if a.detach_once else ft)])
        lab = torch.cat([torch.zeros(len(xs), dtype=torch.long), torch.ones(len(xt), dtype=torch.long)])
        ld = ce(out, lab); ld.backward(); od.step()
        dacc = (out.argmax(1) == lab).float().mean().item()*100
        od.zero_grad(); ot.zero_grad()
        le = ce(disc(ft if a.detach_once else tgt(xt)), torch.zeros(len(xt), dtype=torch.long)); le.backward(); ot.step()
        step += 1; k += 1
        sums["ld"] += ld.item(); sums["dacc"] += dacc; sums["le"] += le.item()
        if step % 10 == 0: emit(phase="step", step=step, epoch=ep+1, ld=round(ld.item(), 4), dacc=round(dacc, 2), le=round(le.item(), 4))
    epoch_record(ep+1, tgt, {f"mean_{key}": v/k for key, v in sums.items()} | {"iterations": k})
print("ADDA  B test %.2f / %.3f" % evaluate(tgt, clf, xbt, ybt), flush=True)
