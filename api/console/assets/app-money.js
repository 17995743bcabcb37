// volcard staff console, second part: the card's life and its money
// (offers, insurance, donation rebates, renewals, closing, the embedded
// bank's test helpers), the platform link, the event feed and webhooks.
// Loaded after app.js, whose helpers (api, el, t, L, table, toast, fail,
// askReason, orgName, orgPicker, saveAs, VIEWS, me) it uses; data from the
// API is always inserted as text.
"use strict";

Object.assign(I18N.zh, {
  "nav.offers": "商家优惠", "nav.insurance": "志愿者保险", "nav.rebates": "捐赠返还", "nav.renewals": "换发新卡",
  "nav.webhooks": "事件推送", "nav.platform": "平台对接",
  "offers.title": "爱心商家优惠", "offers.withdrawn": "含已撤下的", "offers.tier": "权益等级", "offers.otitle": "标题",
  "offers.desc": "说明", "offers.pin": "需验证密码", "offers.from": "开始", "offers.until": "截止（不含）", "offers.state": "状态",
  "offers.active": "生效中", "offers.gone": "已撤下", "offers.new": "新增优惠", "offers.edit": "修改优惠", "offers.save": "保存",
  "offers.change": "修改", "offers.withdraw": "撤下", "offers.redemptions": "使用记录", "offers.none": "没有优惠。",
  "offers.saved": "已保存", "offers.cvm": "持卡人验证", "offers.terminal": "终端", "offers.holder": "志愿者编号",
  "offers.noredemptions": "还没有使用记录。", "offers.new_btn": "新增",
  "ins.title": "志愿者保险", "ins.report": "参保情况", "ins.insured": "在保人数", "ins.ended": "已退保", "ins.cover": "保额合计（元）",
  "ins.total": "合计", "ins.policies": "保单", "ins.insurer": "保险公司", "ins.number": "保单号", "ins.cover_each": "每人保额（元）",
  "ins.from": "生效日期", "ins.to": "截止日期", "ins.set": "设定新保单", "ins.file": "保险公司每日文件", "ins.date": "日期",
  "ins.download": "下载", "ins.saved": "保单已设定", "ins.current": "当前",
  "reb.title": "捐赠返还月度结算", "reb.rates": "返还比例", "reb.rate": "捐赠比例（‱）", "reb.foundation": "基金会留存（‱）",
  "reb.product": "卡产品", "reb.bank": "银行", "reb.from": "生效日期", "reb.to": "截止日期（可空）", "reb.set": "新增比例",
  "reb.saved": "比例已新增", "reb.month": "月份", "reb.generate": "生成该月结算单", "reb.generated": "已生成", "reb.before": "此前已生成",
  "reb.list": "查看", "reb.org": "城市 / 高校", "reb.advices": "交易笔数", "reb.net": "净消费（元）", "reb.donation": "捐赠（元）",
  "reb.returned": "返还（元）", "reb.lines": "明细", "reb.spending": "消费（元）", "reb.refund": "退货（元）", "reb.reversal": "冲正（元）",
  "reb.kept": "基金会留存（元）", "reb.notyet": "该月结算单尚未生成。", "reb.summary": "全月交易 {a} 笔，净消费 {n} 元，结算单 {s} 份，未归属 {u} 笔。",
  "ren.title": "换发新卡（到期 / 已过期）", "ren.before": "有效期在此日期之前", "ren.expired": "仅已过期的卡", "ren.note": "备注",
  "ren.start": "发起批量换卡", "ren.batch": "批次", "ren.open": "查看批次", "ren.refresh": "刷新进度", "ren.through": "截至有效期",
  "ren.card": "卡尾号", "ren.expiry": "原有效期", "ren.result": "银行应答码", "ren.reason": "原因", "ren.newcard": "新卡",
  "ren.created": "已发起批次", "ren.live": "每 3 秒自动刷新，直至全部处理完",
  "card.close": "销卡", "card.renew": "换发", "card.activate": "测试：激活", "card.spend": "测试：消费",
  "card.closeReason": "销卡原因", "card.note": "备注（可空）", "card.amount": "金额（元）", "card.kind": "类型", "card.merchant": "商户名称（可空）",
  "card.testdone": "模拟银行已发送通知，应答码", "card.test_hint": "测试功能：仅当发卡行为内置模拟银行时可用。",
  "hooks.title": "事件推送（Webhook）", "hooks.url": "接收地址", "hooks.desc": "说明", "hooks.types": "事件类型（逗号分隔，空为全部）",
  "hooks.enabled": "启用", "hooks.disabled": "已停用", "hooks.failures": "连续失败", "hooks.create": "新增接收地址", "hooks.save": "保存",
  "hooks.edit": "修改", "hooks.delete": "删除", "hooks.enable": "重新启用", "hooks.deliveries": "推送记录", "hooks.secret": "签名密钥（只显示这一次，请立即保存）：",
  "hooks.deleted": "已删除", "hooks.saved": "已保存", "hooks.event": "事件", "hooks.attempts": "次数", "hooks.status": "HTTP 状态",
  "hooks.error": "错误", "hooks.redeliver": "重新推送", "hooks.requeued": "已重新排队", "hooks.none": "还没有接收地址。",
  "hooks.confirm": "删除此接收地址及其推送记录？请填写原因以确认。", "hooks.all": "全部",
  "feed.title": "最新事件", "feed.types": "事件类型（逗号分隔）", "feed.load": "查看", "feed.type": "类型", "feed.subject": "对象",
  "feed.data": "内容", "feed.none": "没有事件。",
  "plat.title": "i志愿平台对接：登记请求", "plat.volunteer": "志愿者", "plat.attempts": "次数", "plat.number": "平台编号",
  "plat.error": "最后错误", "plat.retry": "重发", "plat.setnumber": "手工填写编号", "plat.numberPrompt": "平台编号",
  "plat.retried": "已重新发送", "plat.set": "已填写", "plat.none": "没有符合条件的请求。", "plat.import": "导入批次查询",
  "plat.import_id": "导入编号", "plat.batch": "批", "plat.rows": "行数", "plat.created": "新建", "plat.updated": "更新", "plat.rejects": "无效行"
});
Object.assign(I18N.en, {
  "nav.offers": "Offers", "nav.insurance": "Insurance", "nav.rebates": "Rebates", "nav.renewals": "Renewals",
  "nav.webhooks": "Webhooks", "nav.platform": "Platform link",
  "offers.title": "Caring merchants' offers", "offers.withdrawn": "include withdrawn", "offers.tier": "Tier", "offers.otitle": "Title",
  "offers.desc": "Details", "offers.pin": "PIN required", "offers.from": "From", "offers.until": "Until (exclusive)", "offers.state": "State",
  "offers.active": "Offered", "offers.gone": "Withdrawn", "offers.new": "New offer", "offers.edit": "Change offer", "offers.save": "Save",
  "offers.change": "Change", "offers.withdraw": "Withdraw", "offers.redemptions": "Redemptions", "offers.none": "No offers.",
  "offers.saved": "Saved", "offers.cvm": "Holder verification", "offers.terminal": "Terminal", "offers.holder": "Volunteer id",
  "offers.noredemptions": "No redemptions yet.", "offers.new_btn": "New",
  "ins.title": "Volunteer insurance", "ins.report": "Insured holders", "ins.insured": "Insured", "ins.ended": "Ended", "ins.cover": "Total cover (CNY)",
  "ins.total": "Total", "ins.policies": "Policies", "ins.insurer": "Insurer", "ins.number": "Policy number", "ins.cover_each": "Cover per holder (CNY)",
  "ins.from": "Effective from", "ins.to": "Effective to", "ins.set": "Set a new policy", "ins.file": "Insurer's daily file", "ins.date": "Date",
  "ins.download": "Download", "ins.saved": "Policy set", "ins.current": "current",
  "reb.title": "Donation rebates by month", "reb.rates": "Rates", "reb.rate": "Donated (bp)", "reb.foundation": "Foundation keeps (bp)",
  "reb.product": "Product", "reb.bank": "Bank", "reb.from": "Effective from", "reb.to": "Effective to (optional)", "reb.set": "Add rate",
  "reb.saved": "Rate added", "reb.month": "Month", "reb.generate": "Generate the month's statements", "reb.generated": "Generated", "reb.before": "Generated before",
  "reb.list": "Show", "reb.org": "City / university", "reb.advices": "Advices", "reb.net": "Net (CNY)", "reb.donation": "Donation (CNY)",
  "reb.returned": "Returned (CNY)", "reb.lines": "Lines", "reb.spending": "Spending (CNY)", "reb.refund": "Refunds (CNY)", "reb.reversal": "Reversals (CNY)",
  "reb.kept": "Foundation (CNY)", "reb.notyet": "That month's statements are not generated yet.", "reb.summary": "{a} advices, net {n} CNY, {s} statements, {u} unattributed.",
  "ren.title": "Renewals of expiring and expired cards", "ren.before": "Valid until before", "ren.expired": "expired cards only", "ren.note": "Note",
  "ren.start": "Start a renewal batch", "ren.batch": "Batch", "ren.open": "Open batch", "ren.refresh": "Refresh", "ren.through": "Expiry up to",
  "ren.card": "Card", "ren.expiry": "Old expiry", "ren.result": "Bank result", "ren.reason": "Reason", "ren.newcard": "New card",
  "ren.created": "Batch started", "ren.live": "refreshing every 3 s until every card is done",
  "card.close": "Close", "card.renew": "Renew", "card.activate": "Test: activate", "card.spend": "Test: spending",
  "card.closeReason": "Why close", "card.note": "Note (optional)", "card.amount": "Amount (CNY)", "card.kind": "Kind", "card.merchant": "Merchant (optional)",
  "card.testdone": "The simulated bank sent the advice; response code", "card.test_hint": "Test helpers: only when the card's bank is the embedded simulator.",
  "hooks.title": "Webhooks", "hooks.url": "URL", "hooks.desc": "Description", "hooks.types": "Event types (comma-separated; empty: all)",
  "hooks.enabled": "Enabled", "hooks.disabled": "Disabled", "hooks.failures": "Failures", "hooks.create": "New endpoint", "hooks.save": "Save",
  "hooks.edit": "Edit", "hooks.delete": "Delete", "hooks.enable": "Enable", "hooks.deliveries": "Deliveries", "hooks.secret": "Signing secret (shown this once; store it now):",
  "hooks.deleted": "Deleted", "hooks.saved": "Saved", "hooks.event": "Event", "hooks.attempts": "Attempts", "hooks.status": "HTTP status",
  "hooks.error": "Error", "hooks.redeliver": "Redeliver", "hooks.requeued": "Queued again", "hooks.none": "No endpoints yet.",
  "hooks.confirm": "Delete this endpoint and its log? Give a reason to confirm.", "hooks.all": "all",
  "feed.title": "Latest events", "feed.types": "Event types (comma-separated)", "feed.load": "Show", "feed.type": "Type", "feed.subject": "Subject",
  "feed.data": "Data", "feed.none": "No events.",
  "plat.title": "Volunteer platform link: registration requests", "plat.volunteer": "Volunteer", "plat.attempts": "Tries", "plat.number": "Platform number",
  "plat.error": "Last error", "plat.retry": "Retry", "plat.setnumber": "Set number by hand", "plat.numberPrompt": "Platform number",
  "plat.retried": "Sent again", "plat.set": "Number set", "plat.none": "No requests match.", "plat.import": "Import status",
  "plat.import_id": "Import id", "plat.batch": "Batch", "plat.rows": "Rows", "plat.created": "Created", "plat.updated": "Updated", "plat.rejects": "Rejected rows"
});

Object.assign(VIEWS, {
  offers: { roles: [PA, OA], load: () => loadOffers() },
  insurance: { roles: [PA, OA], load: () => loadInsurance() },
  rebates: { roles: [PA, OA], load: () => loadRebates() },
  renewals: { roles: [PA, OA], load: () => {} },
  webhooks: { roles: [PA], load: () => { loadHooks(); loadFeed(); } },
  platform: { roles: [PA], load: () => loadPlatform() },
});

const yuan = (fen) => (Number(fen || 0) / 100).toLocaleString(loc(), { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const fen = (v) => Math.round(Number(v) * 100);
const problemText = (e) => (e.status ? e.status + " " : "") + e.message;
const td = (text, attrs) => el("td", Object.assign({ text: text === undefined || text === null ? "—" : String(text) }, attrs || {}));
// localInput turns an RFC 3339 time into a datetime-local value and back.
const localInput = (v) => { if (!v) return ""; const d = new Date(v); d.setMinutes(d.getMinutes() - d.getTimezoneOffset()); return d.toISOString().slice(0, 16); };
const fromLocal = (v) => (v ? new Date(v).toISOString() : null);

// askForm opens a <dialog> holding a form (Enter confirms, Esc or the
// back button goes back) and resolves to the form's fields, or null.
function askForm(id) {
  const d = document.getElementById(id), f = d.querySelector("form");
  f.reset(); fillLabelSelects();
  d.showModal(); f.querySelector("input, select").focus();
  return new Promise((resolve) => {
    const done = (v) => { d.close(); f.onsubmit = null; d.oncancel = null; f.querySelector("button.back").onclick = null; resolve(v); };
    f.onsubmit = (ev) => { ev.preventDefault(); if (!f.reportValidity()) return; done(Object.fromEntries(new FormData(f))); };
    f.querySelector("button.back").onclick = () => done(null);
    d.oncancel = (ev) => { ev.preventDefault(); done(null); };
  });
}

// Card actions on the People page: close (with its reason), renew, and the
// embedded bank's test helpers. There is no way to ask the server whether
// the card's bank is the embedded simulator, so the helpers are offered to
// the roles that may call them and a refusal (409 test-bank-unavailable) is
// shown under the card list.
function cardMoreActions(c, acts) {
  const btn = (act) => el("button", { type: "button", "data-card": c.id, "data-card-act": act }, t("card." + act));
  if (c.pending_change) return;
  const state = c.confirmed_state;
  if ((me.role === PA || me.role === OA) && ["issued", "active", "expired"].includes(state)) acts.append(btn("renew"), " ");
  if (["issued", "active", "blocked", "expired"].includes(state)) acts.append(btn("close"), " ");
  if ((me.role === PA || me.role === BS) && ["issued", "active"].includes(state)) acts.append(btn("activate"), " ", btn("spend"), " ");
}
function cardNote(text, error) {
  let n = $("#card-test-result");
  if (!n) { n = el("p", { id: "card-test-result", role: "status" }); $("#vol-cards").append(n); }
  n.className = error ? "error" : "notice";
  n.textContent = text;
}
async function cardMoreAction(id, act) {
  try {
    if (act === "close") {
      const f = await askForm("close-dialog");
      if (!f) return;
      const c = await api(`/v1/cards/${id}/close`, { method: "POST", json: f.note ? { reason: f.reason, note: f.note } : { reason: f.reason } });
      toast(t("cards.sent") + ": " + c.masked_pan + " → " + L("card", c.state));
    } else if (act === "renew") {
      const reason = await askReason(t("card.renew"), false);
      if (reason === null) return;
      const c = await api(`/v1/cards/${id}/renew`, { method: "POST", json: reason ? { reason } : {} });
      toast(t("cards.sent") + ": " + c.masked_pan + " → " + L("card", c.state));
    } else {
      let r;
      if (act === "activate") r = await api(`/v1/test/cards/${id}/activate`, { method: "POST" });
      else {
        const f = await askForm("spend-dialog");
        if (!f) return;
        const body = { amount_fen: fen(f.amount), kind: f.kind };
        if (f.merchant) body.merchant = f.merchant;
        r = await api(`/v1/test/cards/${id}/spending`, { method: "POST", json: body });
      }
      await loadCards();
      cardNote(`${L("spending", r.advice)} · RRN ${r.rrn} · ${t("card.testdone")} ${r.response_code}`, false);
      return;
    }
    await loadCards();
    await cardHistory(id);
  } catch (e) {
    if (act === "activate" || act === "spend") cardNote(t("error") + ": " + problemText(e) + " — " + t("card.test_hint"), true);
    else fail(e);
  }
}

// Offers of the caring merchants' organisations.
let offerEditing = 0, offersSeq = 0;
async function loadOffers() {
  const seq = ++offersSeq, tbody = $("#offers-table tbody");
  const q = new URLSearchParams();
  if ($("#offers-org").value) q.set("org", $("#offers-org").value);
  if ($("#offers-withdrawn").checked) q.set("withdrawn", "true");
  try {
    const r = await api("/v1/offers?" + q);
    const rows = [];
    for (const o of r.items || []) {
      const acts = el("td", { class: "actions" });
      if (!o.withdrawn_at) acts.append(el("button", { type: "button", "data-offer": o.id, "data-act": "change" }, t("offers.change")), " ",
        el("button", { type: "button", "data-offer": o.id, "data-act": "withdraw" }, t("offers.withdraw")), " ");
      acts.append(el("button", { type: "button", "data-offer": o.id, "data-act": "redemptions" }, t("offers.redemptions")));
      rows.push(el("tr", { "data-offer": o.id }, td(o.title), td(await orgName(o.org_id)), td(L("tier", o.tier), { "data-code": o.tier }),
        td(o.requires_pin ? "✓" : ""), td(o.valid_from ? when(o.valid_from) : "—"), td(o.valid_until ? when(o.valid_until) : "—"),
        td(o.withdrawn_at ? t("offers.gone") + (o.withdraw_reason ? " · " + o.withdraw_reason : "") : t("offers.active"), { class: "state-cell" }), acts));
      offerCache.set(String(o.id), o);
    }
    if (seq !== offersSeq) return;
    tbody.textContent = "";
    if (!rows.length) tbody.append(el("tr", {}, el("td", { colspan: 8, text: t("offers.none") })));
    tbody.append(...rows);
    tbody.dataset.loaded = String(Date.now());
  } catch (e) { fail(e); }
}
const offerCache = new Map();
function offerForm(o) {
  offerEditing = o ? o.id : 0;
  $("#offer-form-title").textContent = t(o ? "offers.edit" : "offers.new");
  $("#offer-orgrow").hidden = !!o;
  $("#offer-tier").value = o ? o.tier : "card_holder";
  $("#offer-title").value = o ? o.title : "";
  $("#offer-desc").value = o ? (o.description || "") : "";
  $("#offer-pin").checked = o ? !!o.requires_pin : false;
  $("#offer-from").value = o ? localInput(o.valid_from) : "";
  $("#offer-until").value = o ? localInput(o.valid_until) : "";
  if (o) $("#offer-title").focus();
}
async function saveOffer() {
  const body = { tier: $("#offer-tier").value, title: $("#offer-title").value.trim(), description: $("#offer-desc").value.trim(),
    requires_pin: $("#offer-pin").checked };
  const from = fromLocal($("#offer-from").value), until = fromLocal($("#offer-until").value);
  try {
    if (offerEditing) {
      body.valid_from = from; body.valid_until = until;
      await api(`/v1/offers/${offerEditing}`, { method: "PATCH", json: body, headers: { "Idempotency-Key": crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2) } });
    } else {
      body.org_id = Number($("#offer-org").value);
      if (from) body.valid_from = from;
      if (until) body.valid_until = until;
      await api("/v1/offers", { method: "POST", json: body });
    }
    toast(t("offers.saved") + ": " + body.title);
    offerForm(null);
    await loadOffers();
  } catch (e) { fail(e); }
}
async function offerAction(id, act) {
  if (act === "change") { offerForm(offerCache.get(id)); return; }
  if (act === "withdraw") {
    const reason = await askReason(t("offers.withdraw"), true);
    if (reason === null) return;
    try { await api(`/v1/offers/${id}/withdraw`, { method: "POST", json: { reason } }); toast(t("offers.gone")); await loadOffers(); } catch (e) { fail(e); }
    return;
  }
  const box = $("#offer-redemptions");
  try {
    const r = await api(`/v1/offers/${id}/redemptions`);
    box.textContent = "";
    box.append(el("h3", { text: t("offers.redemptions") + " · " + (offerCache.get(id) || {}).title }));
    if (!r.items.length) { box.append(el("p", { text: t("offers.noredemptions") })); return; }
    box.append(table("redemptions-table", ["at", "offers.holder", "offers.terminal", "offers.cvm"], r.items.map((x) => el("tr", {},
      td(when(x.at)), td(x.volunteer_id), td(x.terminal_id), td(x.cvm)))));
  } catch (e) { fail(e); }
}

// Insurance: the organisation's report (org admins, province admins);
// policies and the insurer's daily file (province admins).
async function loadInsurance() {
  const org = $("#ins-org").value;
  if (org) {
    try {
      const r = await api(`/v1/orgs/${org}/insurance`);
      const box = $("#ins-report"); box.textContent = "";
      box.append(table("ins-table", ["orgs.name", "orgs.kind", "#ins.insured", "#ins.ended", "#ins.cover"], [
        ...r.items.map((x) => el("tr", { "data-org": x.org_id }, td(x.org_name), td(L("org_kind", x.org_kind)),
          td(fmt(x.insured), { class: "num insured" }), td(fmt(x.ended), { class: "num" }), td(yuan(x.cover_fen), { class: "num" }))),
        el("tr", { class: "total" }, el("th", { text: t("ins.total") + " · " + r.org_name }), el("th", {}), el("th", { class: "num insured", text: fmt(r.insured) }),
          el("th", { class: "num", text: fmt(r.ended) }), el("th", {}))]));
      box.dataset.loaded = org;
    } catch (e) { fail(e); }
  }
  if (me.role !== PA) return;
  try {
    const r = await api("/v1/admin/insurance/policies");
    const tbody = $("#ins-policies tbody"); tbody.textContent = "";
    for (const p of r.items) tbody.append(el("tr", { "data-policy": p.policy_number }, td(p.insurer), td(p.policy_number),
      td(yuan(p.cover_fen), { class: "num" }), td(p.effective_from), td(p.effective_to || t("ins.current"))));
  } catch (e) { fail(e); }
}
async function setPolicy() {
  try {
    const p = await api("/v1/admin/insurance/policies", { method: "POST", json: { insurer: $("#pol-insurer").value.trim(),
      policy_number: $("#pol-number").value.trim(), cover_fen: fen($("#pol-cover").value), effective_from: $("#pol-from").value } });
    toast(t("ins.saved") + ": " + p.policy_number);
    $("#policy-form").reset();
    await loadInsurance();
  } catch (e) { fail(e); }
}

// Donation rebates: rates (province admins), a month's statements (both),
// one statement's lines, export.
let rebMonth = "";
async function loadRebates() {
  if (!$("#reb-month").value) {
    const d = new Date(); d.setDate(1); d.setMonth(d.getMonth() - 1);
    $("#reb-month").value = d.toISOString().slice(0, 7);
  }
  if (me.role === PA) loadRates();
  loadStatements();
}
async function loadRates() {
  const sel = $("#rate-product");
  if (!sel.options.length) for (const p of products) sel.append(el("option", { value: p.code }, `${p.name}（${p.code}）`));
  try {
    const r = await api("/v1/admin/rebates/rates");
    const tbody = $("#reb-rates tbody"); tbody.textContent = "";
    for (const x of r.items) tbody.append(el("tr", { "data-rate": x.id }, td(x.bank_code), td(productName(x.product_code)),
      td(x.rate_bp, { class: "num" }), td(x.foundation_bp, { class: "num" }), td(x.effective_from), td(x.effective_to || "—")));
  } catch (e) { fail(e); }
}
async function setRate() {
  const p = products.find((x) => x.code === $("#rate-product").value);
  const body = { bank_code: p ? p.bank : "", product_code: $("#rate-product").value, rate_bp: Number($("#rate-bp").value),
    foundation_bp: Number($("#rate-fbp").value), effective_from: $("#rate-from").value };
  if ($("#rate-to").value) body.effective_to = $("#rate-to").value;
  try { await api("/v1/admin/rebates/rates", { method: "POST", json: body }); toast(t("reb.saved")); await loadRates(); } catch (e) { fail(e); }
}
async function generateMonth() {
  try {
    const r = await api("/v1/admin/rebates/statements", { method: "POST", json: { month: $("#reb-month").value } });
    toast(t(r.generated ? "reb.generated" : "reb.before") + ": " + r.month);
    await loadStatements();
  } catch (e) { fail(e); }
}
async function loadStatements() {
  const box = $("#reb-statements"); $("#reb-lines").textContent = "";
  rebMonth = $("#reb-month").value;
  try {
    const r = await api("/v1/rebates/statements?month=" + encodeURIComponent(rebMonth));
    box.textContent = "";
    box.append(el("p", { class: "sub", id: "reb-summary", text: t("reb.summary").replace("{a}", fmt(r.advices)).replace("{n}", yuan(r.net_fen))
      .replace("{s}", fmt(r.statements)).replace("{u}", fmt(r.unattributed)) }));
    box.append(table("reb-table", ["reb.org", "orgs.kind", "#reb.advices", "#reb.net", "#reb.donation", "#reb.returned", "col.actions"], r.items.map((s) =>
      el("tr", { "data-statement": s.id }, td(s.org_name), td(L("org_kind", s.org_kind)), td(fmt(s.totals.advices), { class: "num" }),
        td(yuan(s.totals.net_fen), { class: "num" }), td(yuan(s.totals.donation_fen), { class: "num donation" }), td(yuan(s.totals.returned_fen), { class: "num" }),
        el("td", {}, el("button", { type: "button", "data-statement": s.id }, t("reb.lines")))))));
    $("#reb-export").hidden = false;
    box.dataset.loaded = rebMonth;
  } catch (e) {
    box.textContent = ""; $("#reb-export").hidden = true;
    box.append(el("p", { class: e.status === 404 ? "notice" : "error", text: e.status === 404 ? t("reb.notyet") : problemText(e) }));
    box.dataset.loaded = "";
  }
}
async function showStatement(id) {
  const box = $("#reb-lines");
  try {
    const s = await api("/v1/rebates/statements/" + id);
    box.textContent = "";
    box.append(el("h3", { text: `${t("reb.lines")} · ${s.org_name} · ${s.month}` }),
      table("reb-lines-table", ["reb.bank", "reb.product", "#reb.rate", "#reb.foundation", "#reb.advices", "#reb.spending", "#reb.refund", "#reb.reversal",
        "#reb.net", "#reb.donation", "#reb.kept", "#reb.returned"], s.lines.map((x) => el("tr", {}, td(x.bank_code), td(productName(x.product_code)),
        td(x.rate_bp, { class: "num" }), td(x.foundation_bp, { class: "num" }), td(fmt(x.advices), { class: "num" }), td(yuan(x.spending_fen), { class: "num" }),
        td(yuan(x.refund_fen), { class: "num" }), td(yuan(x.reversal_fen), { class: "num" }), td(yuan(x.net_fen), { class: "num" }),
        td(yuan(x.donation_fen), { class: "num" }), td(yuan(x.foundation_fen), { class: "num" }), td(yuan(x.returned_fen), { class: "num" })))));
  } catch (e) { fail(e); }
}

// Renewals: start a batch for an organisation's subtree, then follow it.
let renewalTimer = null;
function stopRenewals() { if (renewalTimer) clearInterval(renewalTimer); renewalTimer = null; }
async function startRenewals() {
  const body = $("#ren-expired").checked ? { expired: true } : { expiring_before: $("#ren-before").value };
  if ($("#ren-note").value.trim()) body.note = $("#ren-note").value.trim();
  try {
    const b = await api(`/v1/orgs/${$("#ren-org").value}/cards/renewals`, { method: "POST", json: body });
    toast(t("ren.created") + " #" + b.id);
    $("#ren-id").value = String(b.id);
    await showRenewal(b);
  } catch (e) { fail(e); }
}
async function openRenewal() {
  const id = $("#ren-id").value;
  if (!id) return;
  try { await showRenewal(await api("/v1/renewals/" + id)); } catch (e) { fail(e); }
}
async function showRenewal(b) {
  const box = $("#ren-batch"); box.textContent = "";
  const pend = b.progress.pending || 0;
  box.append(el("h3", { text: `${t("ren.batch")} #${b.id} · ${await orgName(b.org_id)} · ${t("ren.through")} ${b.through}` }),
    el("div", { class: "funnel", id: "ren-progress" }, ...["pending", "renewed", "refused", "skipped"].map((k) =>
      el("div", { "data-k": k }, L("renewal", k), el("b", { text: fmt(b.progress[k] || 0) })))),
    table("ren-items", ["ren.card", "ren.expiry", "col.status", "ren.result", "ren.reason", "ren.newcard"], b.items.map((x) =>
      el("tr", { "data-card": x.card_id }, td("…" + x.last_four), td(x.expiry), td(L("renewal", x.state), { "data-code": x.state }),
        td(x.result_code || "—"), td(x.reason || "—"), td(x.new_card_id ? "#" + x.new_card_id : "—")))));
  box.dataset.pending = String(pend);
  stopRenewals();
  if (pend > 0 && current === "renewals") {
    $("#ren-live").textContent = t("ren.live");
    renewalTimer = setInterval(async () => {
      try { const nb = await api("/v1/renewals/" + b.id); if (current === "renewals") await showRenewal(nb); else stopRenewals(); } catch (e) { stopRenewals(); }
    }, 3000);
  } else $("#ren-live").textContent = "";
}

// Webhooks: endpoints, the secret shown once, deliveries, redelivery; and
// the latest events of the feed.
let hookEditing = 0, hookShown = 0;
const hookCache = new Map();
async function loadHooks() {
  try {
    const r = await api("/v1/webhooks");
    const tbody = $("#hooks-table tbody"); tbody.textContent = "";
    if (!r.items.length) tbody.append(el("tr", {}, el("td", { colspan: 6, text: t("hooks.none") })));
    for (const h of r.items) {
      hookCache.set(String(h.id), h);
      const b = (act) => el("button", { type: "button", "data-hook": h.id, "data-act": act }, t("hooks." + act));
      const acts = el("td", { class: "actions" }, b("edit"), " ", b("deliveries"), " ", b("delete"));
      if (!h.enabled) acts.append(" ", b("enable"));
      tbody.append(el("tr", { "data-hook": h.id }, td(h.url), td(h.description || "—"), td((h.types || []).join(", ") || t("hooks.all")),
        td(h.enabled ? t("hooks.enabled") : t("hooks.disabled") + (h.disabled_reason ? " · " + h.disabled_reason : ""), { class: "state-cell" }),
        td(fmt(h.failures), { class: "num" }), acts));
    }
  } catch (e) { fail(e); }
}
const typesOf = (s) => s.split(/[,，\s]+/).map((x) => x.trim()).filter(Boolean);
function hookForm(h) {
  hookEditing = h ? h.id : 0;
  $("#hook-form-title").textContent = t(h ? "hooks.edit" : "hooks.create");
  $("#hook-url").value = h ? h.url : ""; $("#hook-desc").value = h ? h.description : ""; $("#hook-types").value = h ? (h.types || []).join(", ") : "";
  if (h) $("#hook-url").focus();
}
async function saveHook() {
  const body = { url: $("#hook-url").value.trim(), description: $("#hook-desc").value.trim(), types: typesOf($("#hook-types").value) };
  try {
    $("#hook-secret").hidden = true;
    if (hookEditing) {
      await api(`/v1/webhooks/${hookEditing}`, { method: "PATCH", json: body, headers: { "Idempotency-Key": crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2) } });
      toast(t("hooks.saved"));
    } else {
      const h = await api("/v1/webhooks", { method: "POST", json: body });
      $("#hook-secret-value").textContent = h.secret;
      $("#hook-secret").hidden = false;
    }
    hookForm(null);
    await loadHooks();
  } catch (e) { fail(e); }
}
async function hookAction(id, act) {
  try {
    if (act === "edit") { hookForm(hookCache.get(id)); return; }
    if (act === "deliveries") { hookShown = id; await loadDeliveries(); return; }
    if (act === "enable") { await api(`/v1/webhooks/${id}/enable`, { method: "POST" }); toast(t("hooks.enabled")); await loadHooks(); return; }
    if (act === "delete") {
      const reason = await askReason(t("hooks.confirm"), true);
      if (reason === null) return;
      await api(`/v1/webhooks/${id}`, { method: "DELETE" });
      toast(t("hooks.deleted"));
      if (hookShown === id) { hookShown = 0; $("#hook-deliveries").textContent = ""; }
      await loadHooks();
    }
  } catch (e) { fail(e); }
}
async function loadDeliveries() {
  const box = $("#hook-deliveries");
  try {
    const r = await api(`/v1/webhooks/${hookShown}/deliveries`);
    box.textContent = "";
    box.append(el("h3", { text: t("hooks.deliveries") + " · " + ((hookCache.get(hookShown) || {}).url || "") }),
      table("deliveries-table", ["at", "hooks.event", "col.status", "#hooks.attempts", "hooks.status", "hooks.error", "col.actions"], r.items.map((d) =>
        el("tr", { "data-delivery": d.id }, td(when(d.created_at)), td(`${d.event_type} #${d.event_id}`), td(L("delivery", d.state), { "data-code": d.state }),
          td(d.attempts, { class: "num" }), td(d.last_status || "—"), td(d.last_error || "—"),
          el("td", {}, el("button", { type: "button", "data-redeliver": d.id }, t("hooks.redeliver")))))));
  } catch (e) { fail(e); }
}
async function redeliver(id) {
  try { const d = await api(`/v1/webhook-deliveries/${id}/redeliver`, { method: "POST" }); toast(t("hooks.requeued") + " #" + d.id); await loadDeliveries(); } catch (e) { fail(e); }
}
// loadFeed reads the feed from the start (1,000 a page, at most 20 pages)
// and shows the newest 100, newest first.
async function loadFeed() {
  const box = $("#feed-result");
  const types = typesOf($("#feed-types").value).join(",");
  let after = "", all = [];
  try {
    for (let i = 0; i < 20; i++) {
      const q = new URLSearchParams({ limit: "1000" });
      if (after) q.set("after", after);
      if (types) q.set("types", types);
      const r = await api("/v1/events?" + q);
      all = all.concat(r.items).slice(-100);
      after = r.next;
      if (r.items.length < 1000) break;
    }
    box.textContent = "";
    if (!all.length) { box.append(el("p", { text: t("feed.none") })); return; }
    box.append(table("feed-table", ["at", "feed.type", "feed.subject", "feed.data"], all.reverse().map((ev) => el("tr", { "data-event": ev.id },
      td(when(ev.created_at)), td(ev.type), td(`${ev.subject.type} #${ev.subject.id}`), td(JSON.stringify(ev.data), { class: "data" })))));
  } catch (e) { fail(e); }
}

// The platform link: registration requests (failed first), retry, a
// volunteer's platform number set by hand, an import's status.
async function loadPlatform() {
  const tbody = $("#plat-table tbody");
  const q = new URLSearchParams();
  if ($("#plat-state").value) q.set("state", $("#plat-state").value);
  try {
    const r = await api("/v1/admin/platform-requests?" + q);
    const rows = [];
    for (const x of r.items) {
      const name = await api("/v1/volunteers/" + x.volunteer_id).then((v) => v.name).catch(() => "#" + x.volunteer_id);
      const acts = el("td", { class: "actions" });
      if (x.state === "failed") acts.append(el("button", { type: "button", "data-plat": x.id, "data-act": "retry" }, t("plat.retry")), " ");
      if (x.state !== "done") acts.append(el("button", { type: "button", "data-plat": x.id, "data-volunteer": x.volunteer_id, "data-act": "number" }, t("plat.setnumber")));
      rows.push(el("tr", { "data-plat": x.id }, td(name), td(L("platform_request", x.state), { "data-code": x.state }), td(x.attempts, { class: "num" }),
        td(x.volunteer_number || "—"), td(x.last_error || "—"), td(when(x.updated_at)), acts));
    }
    tbody.textContent = "";
    if (!rows.length) tbody.append(el("tr", {}, el("td", { colspan: 7, text: t("plat.none") })));
    tbody.append(...rows);
  } catch (e) { fail(e); }
}
async function platAction(b) {
  try {
    if (b.dataset.act === "retry") {
      const reason = await askReason(t("plat.retry"), false);
      if (reason === null) return;
      await api(`/v1/admin/platform-requests/${b.dataset.plat}/retry`, { method: "POST", json: reason ? { reason } : {} });
      toast(t("plat.retried") + " #" + b.dataset.plat);
    } else {
      const f = await askForm("number-dialog");
      if (!f) return;
      await api(`/v1/volunteers/${b.dataset.volunteer}/platform-number`, { method: "PUT", json: { volunteer_number: f.number.trim(), reason: f.reason.trim() },
        headers: { "Idempotency-Key": crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2) } });
      toast(t("plat.set") + ": " + f.number);
    }
    await loadPlatform();
  } catch (e) { fail(e); }
}
async function loadImport() {
  const box = $("#import-result");
  try {
    const r = await api("/v1/imports/" + encodeURIComponent($("#import-id").value.trim()));
    box.textContent = "";
    box.append(table("import-table", ["plat.batch", "org", "#plat.rows", "#plat.created", "#plat.updated", "plat.rejects"], (r.batches || []).map((x) =>
      el("tr", {}, td(x.seq), td(x.kind), td(x.rows, { class: "num" }), td(x.created, { class: "num" }), td(x.updated, { class: "num" }),
        td((x.rejects || []).map((j) => `${j.line}: ${j.field ? j.field + " " : ""}${j.reason}`).join("; ") || "—")))));
  } catch (e) { fail(e); }
}

document.addEventListener("DOMContentLoaded", () => {
  $("#vol-cards").addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-card-act]"); if (b) cardMoreAction(b.dataset.card, b.dataset.cardAct);
  });
  document.querySelectorAll("nav button").forEach((b) => b.addEventListener("click", () => { if (b.dataset.page !== "renewals") stopRenewals(); }));
  $("#offers-org").addEventListener("change", loadOffers);
  $("#offers-withdrawn").addEventListener("change", loadOffers);
  $("#offer-form").addEventListener("submit", (ev) => { ev.preventDefault(); saveOffer(); });
  $("#offer-new").addEventListener("click", () => { offerForm(null); $("#offer-title").focus(); });
  $("#offers-table").addEventListener("click", (ev) => { const b = ev.target.closest("button[data-offer]"); if (b) offerAction(b.dataset.offer, b.dataset.act); });
  $("#ins-org").addEventListener("change", loadInsurance);
  $("#policy-form").addEventListener("submit", (ev) => { ev.preventDefault(); setPolicy(); });
  $("#ins-file-form").addEventListener("submit", (ev) => {
    ev.preventDefault(); const d = $("#ins-file-date").value; saveAs(`/v1/admin/insurance/files/${d}`, `insurance-${d}.txt`);
  });
  $("#rate-form").addEventListener("submit", (ev) => { ev.preventDefault(); setRate(); });
  $("#reb-form").addEventListener("submit", (ev) => { ev.preventDefault(); loadStatements(); });
  $("#reb-generate").addEventListener("click", generateMonth);
  $("#reb-statements").addEventListener("click", (ev) => { const b = ev.target.closest("button[data-statement]"); if (b) showStatement(b.dataset.statement); });
  $("#reb-export").addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-fmt]");
    if (b) saveAs(`/v1/rebates/statements/export?month=${rebMonth}&format=${b.dataset.fmt}`, `rebates-${rebMonth}.${b.dataset.fmt}`);
  });
  $("#ren-expired").addEventListener("change", () => { $("#ren-before").disabled = $("#ren-expired").checked; });
  $("#ren-form").addEventListener("submit", (ev) => { ev.preventDefault(); startRenewals(); });
  $("#ren-open").addEventListener("submit", (ev) => { ev.preventDefault(); openRenewal(); });
  $("#hook-form").addEventListener("submit", (ev) => { ev.preventDefault(); saveHook(); });
  $("#hook-new").addEventListener("click", () => { hookForm(null); $("#hook-url").focus(); });
  $("#hooks-table").addEventListener("click", (ev) => { const b = ev.target.closest("button[data-hook]"); if (b) hookAction(b.dataset.hook, b.dataset.act); });
  $("#hook-deliveries").addEventListener("click", (ev) => { const b = ev.target.closest("button[data-redeliver]"); if (b) redeliver(b.dataset.redeliver); });
  $("#feed-form").addEventListener("submit", (ev) => { ev.preventDefault(); loadFeed(); });
  $("#plat-state").addEventListener("change", loadPlatform);
  $("#plat-table").addEventListener("click", (ev) => { const b = ev.target.closest("button[data-plat]"); if (b) platAction(b); });
  $("#import-form").addEventListener("submit", (ev) => { ev.preventDefault(); loadImport(); });
});
