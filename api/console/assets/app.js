// volcard staff console: plain JavaScript, no build step, no external
// resources. Data from the JSON API is always inserted as text, never as
// HTML.
"use strict";

const I18N = {
  zh: {
    "title": "广东志愿者卡管理台", "nav.queue": "申请审核", "nav.volunteers": "志愿者查询", "nav.onsite": "现场办卡",
    "nav.targets": "目标看板", "nav.checkins": "签到实况", "nav.reports": "报表下载", "signout": "退出",
    "signin.title": "使用令牌登录", "signin.submit": "登录",
    "signin.help": "请输入管理员发放的 API 令牌（vc_…）。令牌仅保存在本浏览器标签页的会话存储中。",
    "signin.bad": "令牌无效或已吊销。", "queue.title": "待审核的申请", "queue.status": "状态", "refresh": "刷新",
    "col.number": "申请编号", "col.volunteer": "志愿者", "col.org": "组织", "col.product": "卡产品", "col.channel": "渠道",
    "col.status": "状态", "col.created": "提交时间", "col.actions": "操作", "more": "更多",
    "approve": "通过", "reject": "驳回", "cancel": "撤销", "reason": "请填写原因", "done": "已完成",
    "queue.empty": "没有符合条件的申请。", "vol.title": "志愿者查询（信息已脱敏）", "search": "查询",
    "vol.notfound": "未找到（或不在您的管辖范围内）。", "onsite.title": "现场批量办卡",
    "onsite.unavailable": "现场办卡接口暂不可用（not available yet）。", "onsite.new": "申请现场服务",
    "onsite.create": "提交", "onsite.open": "打开场次", "onsite.load": "打开", "onsite.upload": "上传名单（CSV / XLSX）",
    "onsite.send": "上传", "onsite.approve": "批量审核通过", "onsite.rows": "行", "onsite.accepted": "有效",
    "onsite.rejected": "无效", "onsite.session": "场次", "onsite.approved": "已审核通过",
    "onsite.list": "现场办卡场次", "onsite.site": "地点", "onsite.date": "日期", "onsite.expected": "预计人数",
    "onsite.empty": "暂无场次。", "onsite.branch": "承办网点", "onsite.contact": "联系人",
    "onsite.rejected_dl": "下载无效行（CSV）", "onsite.line": "行号", "onsite.result": "结果", "onsite.name": "姓名",
    "onsite.idn": "身份证号", "onsite.phone": "手机号", "onsite.reasons": "原因",
    "onsite.line_help": "行号 = 该行在您上传的文件中的行号（表头为第 1 行）。请按行号在原文件中改正这些行，再上传整个文件；已通过的行不会重复登记。",
    "onsite.masked_help": "身份证号和手机号已脱敏（仅银行工作人员可见完整号码），请以行号和姓名在原文件中查找。",
    "state.requested": "已申请", "state.scheduled": "已排期", "state.in_progress": "进行中", "state.completed": "已完成",
    "state.cancelled": "已取消", "row.accepted": "有效", "row.rejected": "无效",
    "targets.title": "目标完成情况", "year": "年度", "org": "组织",
    "rating.green": "达标", "rating.amber": "接近（≥80%）", "rating.red": "未达标", "rating.none": "无目标",
    "ind.volunteer_rate": "注册志愿者 / 常住人口", "ind.league_rate": "团员注册率", "ind.card_rate": "持卡率",
    "ind.city_card_rate": "梅州卡持卡率", "ind.new_card_rate": "当年新注册志愿者办卡率",
    "kpi.registered": "注册志愿者", "kpi.holders": "持卡人", "kpi.city": "城市卡持卡人", "kpi.new": "当年新注册",
    "target": "目标", "funnel": "申请状态", "checkins.title": "活动签到实况", "checkins.watch": "开始查看",
    "checkins.live": "每 3 秒自动刷新", "checkins.in": "签到", "checkins.out": "签退", "checkins.minutes": "时长（分钟）",
    "checkins.unavailable": "签到接口暂不可用（not available yet）。", "checkins.open": "在场", "checkins.total": "签到人次",
    "checkins.activity": "今天及即将开始的活动", "checkins.hint": "点击活动即可查看签到", "checkins.today": "今天", "checkins.upcoming": "即将开始",
    "checkins.none": "今天及以后没有您管辖范围内的活动。", "checkins.count": "签到人次",
    "reports.title": "报表下载", "reports.targets": "目标完成情况", "reports.applications": "申请漏斗（状态/渠道/银行）",
    "reports.hours": "志愿服务时长", "reports.clothing": "服装尺码订购表", "reports.contacts": "负责人与联络员名单",
    "error": "出错了", "nochart": "暂无下级组织数据。"
  },
  en: {
    "title": "Guangdong Volunteer Card Console", "nav.queue": "Review queue", "nav.volunteers": "Volunteers",
    "nav.onsite": "On-site", "nav.targets": "Targets", "nav.checkins": "Check-ins", "nav.reports": "Reports",
    "signout": "Sign out", "signin.title": "Sign in with a token", "signin.submit": "Sign in",
    "signin.help": "Enter the API token (vc_…) your administrator gave you. It is kept in this tab's session storage only.",
    "signin.bad": "The token is unknown or revoked.", "queue.title": "Applications to review", "queue.status": "Status",
    "refresh": "Refresh", "col.number": "Number", "col.volunteer": "Volunteer", "col.org": "Org", "col.product": "Product",
    "col.channel": "Channel", "col.status": "Status", "col.created": "Submitted", "col.actions": "Actions", "more": "More",
    "approve": "Approve", "reject": "Reject", "cancel": "Cancel", "reason": "Reason, please", "done": "Done",
    "queue.empty": "No applications match.", "vol.title": "Volunteer lookup (masked)", "search": "Search",
    "vol.notfound": "Not found (or outside your scope).", "onsite.title": "On-site batch enrollment",
    "onsite.unavailable": "The on-site API is not available yet.", "onsite.new": "Request a session",
    "onsite.create": "Request", "onsite.open": "Open session", "onsite.load": "Open", "onsite.upload": "Upload roster (CSV / XLSX)",
    "onsite.send": "Upload", "onsite.approve": "Approve batch", "onsite.rows": "Rows", "onsite.accepted": "Accepted",
    "onsite.rejected": "Rejected", "onsite.session": "Session", "onsite.approved": "Approved",
    "onsite.list": "On-site sessions", "onsite.site": "Site", "onsite.date": "Date", "onsite.expected": "Expected",
    "onsite.empty": "No sessions.", "onsite.branch": "Branch", "onsite.contact": "Contact",
    "onsite.rejected_dl": "Download rejected rows (CSV)", "onsite.line": "行号 (line)", "onsite.result": "Result", "onsite.name": "Name",
    "onsite.idn": "ID number", "onsite.phone": "Phone", "onsite.reasons": "Reasons",
    "onsite.line_help": "行号 = the line in your uploaded file (the header is line 1). Fix those lines in your original file and upload the whole file again; accepted rows are not stored twice.",
    "onsite.masked_help": "ID numbers and phones are masked (only bank staff see them in full): find the rows by line number and name.",
    "state.requested": "Requested", "state.scheduled": "Scheduled", "state.in_progress": "In progress", "state.completed": "Completed",
    "state.cancelled": "Cancelled", "row.accepted": "Accepted", "row.rejected": "Rejected",
    "targets.title": "Targets", "year": "Year", "org": "Org",
    "rating.green": "On target", "rating.amber": "Close (≥80%)", "rating.red": "Behind", "rating.none": "No target",
    "ind.volunteer_rate": "Volunteers / resident population", "ind.league_rate": "League members registered",
    "ind.card_rate": "Card holders / volunteers", "ind.city_card_rate": "Meizhou card holders / volunteers",
    "ind.new_card_rate": "New volunteers with a card", "kpi.registered": "Registered volunteers", "kpi.holders": "Card holders",
    "kpi.city": "City-card holders", "kpi.new": "New this year", "target": "Target", "funnel": "Applications by status",
    "checkins.title": "Live check-ins", "checkins.watch": "Watch", "checkins.live": "refreshing every 3 s",
    "checkins.in": "In", "checkins.out": "Out", "checkins.minutes": "Minutes",
    "checkins.unavailable": "The check-in API is not available yet.", "checkins.open": "On site", "checkins.total": "Check-ins",
    "checkins.activity": "Today's and upcoming activities", "checkins.hint": "click one to watch its check-ins", "checkins.today": "Today", "checkins.upcoming": "Upcoming",
    "checkins.none": "No activities in your scope today or later.", "checkins.count": "check-ins",
    "reports.title": "Downloads", "reports.targets": "Targets", "reports.applications": "Application funnel (status/channel/bank)",
    "reports.hours": "Service hours", "reports.clothing": "Clothing sizes to order", "reports.contacts": "Responsible persons and liaisons",
    "error": "Error", "nochart": "No sub-organisations to chart."
  }
};
const INDICATORS = ["volunteer_rate", "league_rate", "card_rate", "city_card_rate", "new_card_rate"];
const STATUSES = ["submitted", "approved", "rejected", "bank_pending", "bank_approved", "bank_declined",
  "personalized", "issued", "activated", "cancelled"];

let lang = localStorage.getItem("volcard.lang") || "zh";
const $ = (sel) => document.querySelector(sel);
const t = (k) => (I18N[lang] && I18N[lang][k]) || I18N.zh[k] || k;

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else if (k === "text") e.textContent = v; else e.setAttribute(k, v);
  }
  for (const c of kids) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function applyLang() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.querySelectorAll("[data-i18n]").forEach((n) => { n.textContent = t(n.dataset.i18n); });
  $("#lang").textContent = lang === "zh" ? "English" : "中文";
  document.title = t("title") + " · volcard";
}

function toast(msg) {
  const n = $("#toast");
  n.textContent = msg;
  n.classList.add("show");
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => n.classList.remove("show"), 3000);
}

const token = () => sessionStorage.getItem("volcard.token");

class APIError extends Error {
  constructor(status, problem) { super((problem && (problem.detail || problem.title)) || ("HTTP " + status)); this.status = status; }
}

async function api(path, opts = {}) {
  const headers = Object.assign({ "Authorization": "Bearer " + token(), "Accept": "application/json" }, opts.headers || {});
  if (opts.json !== undefined) { headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(opts.json); }
  if (opts.method === "POST" && !headers["Idempotency-Key"]) headers["Idempotency-Key"] = crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2);
  const res = await fetch(path, { method: opts.method || "GET", headers, body: opts.body });
  if (opts.raw) { if (!res.ok) throw new APIError(res.status, await res.json().catch(() => null)); return res; }
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    if (res.status === 401) signOut();
    throw new APIError(res.status, body);
  }
  return body;
}

// Navigation.
let current = "queue";
function show(page) {
  current = page;
  document.querySelectorAll(".page").forEach((p) => { p.hidden = p.id !== "page-" + page; });
  document.querySelectorAll("nav button").forEach((b) => b.classList.toggle("active", b.dataset.page === page));
  if (page !== "checkins") stopCheckins();
  ({ queue: loadQueue, targets: loadTargets, onsite: () => loadOnsiteList(), checkins: loadActivities }[page] || (() => {}))();
}

function signOut() {
  sessionStorage.removeItem("volcard.token");
  $("#nav").hidden = true; $("#signout").hidden = true;
  document.querySelectorAll(".page").forEach((p) => { p.hidden = p.id !== "page-signin"; });
}

async function signIn(tok) {
  sessionStorage.setItem("volcard.token", tok);
  try {
    await api("/v1/reports/targets?year=2017");
  } catch (e) {
    if (e.status === 401) { sessionStorage.removeItem("volcard.token"); $("#signin-error").textContent = t("signin.bad"); return; }
    // 403: a role without reports (bank staff) may still use the queue.
  }
  $("#signin-error").textContent = "";
  $("#nav").hidden = false; $("#signout").hidden = false;
  show(current);
}

// Review queue.
let queueCursor = "";
async function loadQueue(more) {
  const tbody = $("#queue-table tbody");
  if (!more) { tbody.textContent = ""; queueCursor = ""; }
  const q = new URLSearchParams({ limit: "50" });
  const st = $("#queue-status").value; if (st) q.set("status", st);
  if (more && queueCursor) q.set("cursor", queueCursor);
  try {
    const page = await api("/v1/applications?" + q);
    queueCursor = page.next_cursor || "";
    $("#queue-more").hidden = !queueCursor;
    if (!page.items.length && !more) tbody.append(el("tr", {}, el("td", { colspan: "8", text: t("queue.empty") })));
    for (const a of page.items) {
      const actions = el("td", { class: "actions" });
      if (a.status === "submitted") {
        actions.append(el("button", { "data-act": "approve", "data-id": a.id, class: "primary" }, t("approve")), " ",
          el("button", { "data-act": "reject", "data-id": a.id }, t("reject")), " ");
      }
      if (a.status === "submitted" || a.status === "approved") actions.append(el("button", { "data-act": "cancel", "data-id": a.id }, t("cancel")));
      tbody.append(el("tr", { "data-app": a.id },
        el("td", { text: a.number }), el("td", { text: "#" + a.volunteer_id }), el("td", { class: "org", title: "#" + a.org_id, text: a.org_name || ("#" + a.org_id) }),
        el("td", { text: a.product }), el("td", { text: a.channel }), el("td", { class: "status", text: a.status }),
        el("td", { text: new Date(a.created_at).toLocaleString(lang === "zh" ? "zh-CN" : "en-GB") }), actions));
    }
  } catch (e) { toast(t("error") + ": " + e.message); }
}

async function decide(act, id) {
  let body;
  if (act !== "approve") {
    const reason = prompt(t("reason"));
    if (reason === null) return;
    if (!reason.trim() && act === "reject") return;
    body = { reason };
  }
  try {
    const a = await api(`/v1/applications/${id}/${act}`, { method: "POST", json: body });
    toast(t("done") + ": " + a.number + " → " + a.status);
    loadQueue();
  } catch (e) { toast(t("error") + ": " + e.message); }
}

// Volunteer lookup (the API masks for roles that may not see personal data).
async function findVolunteer(idNumber) {
  const box = $("#vol-result"); box.textContent = "";
  try {
    const v = await api("/v1/volunteers?id_number=" + encodeURIComponent(idNumber));
    const dl = el("dl", { class: "card" });
    for (const [k, val] of [["ID", v.id], ["姓名 / Name", v.name], ["证件 / ID number", v.id_number], ["手机 / Phone", v.phone],
      ["组织 / Org", "#" + v.org_id], ["团员 / League", v.league_member ? "✓" : "—"], ["尺码 / Size", v.clothing_size],
      ["来源 / Source", v.source], ["注册 / Registered", new Date(v.created_at).toLocaleDateString()]]) {
      dl.append(el("dt", { text: k }), el("dd", { text: String(val) }));
    }
    box.append(dl);
  } catch (e) { box.append(el("p", { class: "error", text: e.status === 404 ? t("vol.notfound") : e.message })); }
}

// On-site sessions.
let onsiteSession = 0;
let onsiteCursor = "";
const stateLabel = (st) => t("state." + st) === "state." + st ? st : t("state." + st);

// loadOnsiteList shows the sessions in the caller's scope, newest first. A
// server without the on-site API answers 404/405: the page says so.
async function loadOnsiteList(more) {
  const tbody = $("#onsite-table tbody");
  const q = new URLSearchParams({ limit: "20" });
  const st = $("#onsite-state").value; if (st) q.set("state", st);
  if (more && onsiteCursor) q.set("cursor", onsiteCursor);
  let page;
  try {
    page = await api("/v1/onsite-sessions?" + q);
  } catch (e) {
    const unavailable = e.status === 404 || e.status === 405;
    $("#onsite-unavailable").hidden = !unavailable;
    $("#onsite-body").hidden = unavailable;
    if (!unavailable) toast(t("error") + ": " + e.message);
    return;
  }
  $("#onsite-unavailable").hidden = true; $("#onsite-body").hidden = false;
  if (!more) tbody.textContent = "";
  onsiteCursor = page.next_cursor || "";
  $("#onsite-more").hidden = !onsiteCursor;
  if (!page.items.length && !more) tbody.append(el("tr", {}, el("td", { colspan: "9", text: t("onsite.empty") })));
  for (const s of page.items) {
    tbody.append(el("tr", { "data-session": s.id, class: s.id === onsiteSession ? "selected" : "" },
      el("td", { class: "num", text: String(s.id) }), el("td", { text: s.org_name || ("#" + s.org_id) }),
      el("td", { text: s.site }), el("td", { text: s.date }),
      el("td", {}, el("span", { class: "state " + s.status, "data-state": s.status, text: stateLabel(s.status) })),
      el("td", { class: "num", text: String(s.expected_count) }), el("td", { class: "num accepted", text: String(s.accepted) }),
      el("td", { class: "num rejected", text: String(s.rejected) }),
      el("td", {}, el("button", { type: "button", "data-open": s.id }, t("onsite.load")))));
  }
  $("#onsite-table").dataset.loaded = String(Date.now()); // tests wait for it
}

function renderSession(s) {
  const box = $("#onsite-session"); box.textContent = "";
  box.append(el("p", { id: "onsite-session-line" }, `${t("onsite.session")} #${s.id} · ${s.site} · ${s.date} · ${s.product} · `,
    el("b", { "data-state": s.status, text: stateLabel(s.status) }), s.branch && s.branch.name ? " · " + s.branch.name : ""));
  if (s.branch && s.branch.contact_name) {
    box.append(el("p", { class: "sub" }, `${t("onsite.branch")}: ${s.branch.name} · ${t("onsite.contact")}: ${s.branch.contact_name} ${s.branch.contact_phone || ""}`));
  }
  onsiteSession = s.id;
  document.querySelectorAll("#onsite-table tr[data-session]").forEach((tr) => tr.classList.toggle("selected", Number(tr.dataset.session) === s.id));
  $("#onsite-upload").hidden = false;
  $("#onsite-rejected").hidden = true;
  $("#onsite-report").textContent = "";
}

async function loadSession(id) {
  try { renderSession(await api("/v1/onsite-sessions/" + id)); await loadOnsiteReport(); } catch (e) { toast(t("error") + ": " + e.message); }
}

// downloadRejected saves the rejected rows of the latest upload (UTF-8 with
// BOM: Excel opens it).
async function downloadRejected() {
  try {
    const res = await api(`/v1/onsite-sessions/${onsiteSession}/rejected.csv`, { raw: true });
    const blob = await res.blob();
    const a = el("a", { href: URL.createObjectURL(blob), download: `session-${onsiteSession}-rejected.csv` });
    document.body.append(a); a.click(); a.remove();
  } catch (e) { toast(t("error") + ": " + e.message); }
}

async function loadOnsiteReport() {
  if (!onsiteSession) return;
  try {
    const r = await api(`/v1/onsite-sessions/${onsiteSession}/report`);
    const box = $("#onsite-report");
    const old = box.querySelector(".funnel"); if (old) old.remove();
    const f = el("div", { class: "funnel", id: "onsite-counts" });
    for (const k of ["requested", "accepted", "rejected", "submitted", "approved", "sent", "personalized", "failed", "cancelled"]) {
      f.append(el("div", {}, k, el("b", { "data-k": k, text: String(r[k] ?? 0) })));
    }
    box.prepend(f);
    $("#onsite-rejected").hidden = !(r.rejected > 0);
  } catch (e) { /* report not ready */ }
}

function renderRoster(rep) {
  const box = $("#onsite-report"); box.textContent = "";
  box.append(el("p", { id: "roster-summary" }, `${t("onsite.rows")}: ${rep.rows} · ${t("onsite.accepted")}: ${rep.accepted} · ${t("onsite.rejected")}: ${rep.rejected}`));
  const tb = el("tbody");
  for (const r of rep.items) {
    const reasons = (r.reasons || []).map((x) => (x.field ? x.field + ": " : "") + x.message).join("; ");
    tb.append(el("tr", { class: r.status, "data-line": r.line },
      el("td", { class: "num", text: String(r.line) }), el("td", { text: t("row." + r.status) }), el("td", { text: r.name }),
      el("td", { text: r.id_number }), el("td", { text: r.phone }), el("td", { text: reasons })));
  }
  box.append(el("table", { id: "roster-rows" }, el("thead", {}, el("tr", {},
    ...["onsite.line", "onsite.result", "onsite.name", "onsite.idn", "onsite.phone", "onsite.reasons"].map((k) => el("th", { "data-i18n": k, class: k === "onsite.line" ? "num" : "", text: t(k) })))), tb));
  // Masked values cannot be searched for: say how to find the rows.
  $("#onsite-masked-help").hidden = !rep.items.some((r) => r.status === "rejected" && /\*/.test(r.id_number || ""));
  $("#onsite-rejected").hidden = !(rep.rejected > 0);
  loadOnsiteReport();
  loadOnsiteList();
}

async function uploadRoster(file) {
  const fd = new FormData(); fd.append("file", file, file.name);
  try {
    const res = await fetch(`/v1/onsite-sessions/${onsiteSession}/roster`, { method: "POST", body: fd,
      headers: { "Authorization": "Bearer " + token() } });
    const body = await res.json().catch(() => null);
    if (!res.ok) throw new APIError(res.status, body);
    renderRoster(body);
    toast(t("done"));
  } catch (e) { toast(t("error") + ": " + e.message); }
}

// Targets dashboard.
function pct(v) {
  if (v === null || v === undefined) return "—";
  if (v === 0) return "0%";
  const p = v * 100;
  const digits = p < 0.01 ? 4 : p < 0.1 ? 3 : p < 10 ? 2 : 1;
  return p.toFixed(digits) + "%";
}
const fmt = (n) => Number(n).toLocaleString(lang === "zh" ? "zh-CN" : "en-GB");

let targetsSeq = 0;
async function loadTargets() {
  const seq = ++targetsSeq;
  const year = $("#targets-year").value, org = $("#targets-org").value;
  const q = new URLSearchParams({ year });
  if (org) q.set("org", org);
  try {
    const [rep, funnel] = await Promise.all([api("/v1/reports/targets?" + q),
      api("/v1/reports/applications" + (org ? "?org=" + org : "")).catch(() => null)]);
    if (seq !== targetsSeq) return; // a newer request is on its way
    renderKPIs(rep.rows[0]);
    renderFunnel(funnel);
    renderCharts(rep);
    $("#kpis").dataset.key = year + ":" + org; // what is shown (tests wait for it)
  } catch (e) { toast(t("error") + ": " + e.message); }
}

function renderKPIs(root) {
  const box = $("#kpis"); box.textContent = "";
  if (!root) return;
  const card = (id, label, value, sub, rating) => el("div", { class: "kpi " + (rating || ""), id },
    el("div", { class: "label", text: label }), el("div", { class: "value", text: value }), el("div", { class: "sub", text: sub || "" }));
  box.append(el("div", { class: "kpi", id: "kpi-org" }, el("div", { class: "label", text: t("org") }), el("div", { class: "value", text: root.name })));
  box.append(card("kpi-registered", t("kpi.registered"), fmt(root.registered)));
  box.append(card("kpi-holders", t("kpi.holders"), fmt(root.holders)));
  box.append(card("kpi-city", t("kpi.city"), fmt(root.city_card_holders)));
  box.append(card("kpi-new", t("kpi.new"), fmt(root.new_volunteers)));
  for (const ind of root.indicators) {
    box.append(card("kpi-" + ind.indicator, t("ind." + ind.indicator), pct(ind.value),
      `${fmt(ind.numerator)} / ${fmt(ind.denominator)}` + (ind.target !== null ? ` · ${t("target")} ${pct(ind.target)}` : ""), ind.rating));
  }
}

function renderFunnel(f) {
  const box = $("#funnel"); box.textContent = "";
  if (!f) return;
  box.append(el("strong", { text: t("funnel") + ":" }));
  for (const st of STATUSES) box.append(el("div", { id: "funnel-" + st }, st, el("b", { text: fmt(f.by_status[st] || 0) })));
}

const SVG = "http://www.w3.org/2000/svg";
function svgEl(tag, attrs, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}
const COLORS = { green: "#2e7d32", amber: "#f9a825", red: "#c62828", none: "#9e9e9e" };

// renderCharts draws, per indicator, one bar per child organisation of the
// report's root (the cities under the province) with its target marked.
function renderCharts(rep) {
  const box = $("#charts"); box.textContent = "";
  const kids = rep.rows.filter((r) => r.depth === 1);
  if (!kids.length) { box.append(el("p", { text: t("nochart") })); return; }
  for (const ind of INDICATORS) {
    const vals = kids.map((r) => r.indicators.find((x) => x.indicator === ind));
    if (!vals.some((v) => v.value !== null || v.target !== null)) continue;
    const W = 1000, H = 260, L = 56, B = 54, T = 14, plotW = W - L - 10, plotH = H - B - T;
    const max = Math.max(0.0001, ...vals.map((v) => Math.max(v.value || 0, v.target || 0))) * 1.15;
    const y = (v) => T + plotH - (v / max) * plotH;
    const svg = svgEl("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": t("ind." + ind), "data-indicator": ind });
    for (let i = 0; i <= 4; i++) {
      const v = (max / 4) * i;
      svg.append(svgEl("line", { x1: L, x2: W - 10, y1: y(v), y2: y(v), stroke: "#e3e7ec" }));
      svg.append(svgEl("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end", "font-size": 11, fill: "#5a6673" }, pct(v)));
    }
    const bw = plotW / kids.length;
    const targets = new Set(vals.map((v) => v.target));
    kids.forEach((r, i) => {
      const v = vals[i], x = L + i * bw;
      const h = v.value ? (v.value / max) * plotH : 0;
      const bar = svgEl("rect", { x: x + bw * 0.15, y: T + plotH - h, width: bw * 0.7, height: h, fill: COLORS[v.rating] || COLORS.none,
        "data-org": r.org_id });
      bar.append(svgEl("title", {}, `${r.name}: ${pct(v.value)} (${fmt(v.numerator)}/${fmt(v.denominator)})` + (v.target !== null ? `, ${t("target")} ${pct(v.target)}` : "")));
      svg.append(bar);
      if (v.target !== null && targets.size > 1) {
        svg.append(svgEl("line", { x1: x + bw * 0.08, x2: x + bw * 0.92, y1: y(v.target), y2: y(v.target), stroke: "#1d2733", "stroke-width": 2 }));
      }
      const name = r.name.length > 4 ? r.name.replace(/(市|区|县)$/, "") : r.name;
      svg.append(svgEl("text", { x: x + bw / 2, y: H - B + 16, "text-anchor": "middle", "font-size": 12, fill: "#1d2733" }, name));
      svg.append(svgEl("text", { x: x + bw / 2, y: H - B + 32, "text-anchor": "middle", "font-size": 10, fill: "#5a6673" }, pct(v.value)));
    });
    if (targets.size === 1 && vals[0].target !== null) {
      const ty = y(vals[0].target);
      svg.append(svgEl("line", { x1: L, x2: W - 10, y1: ty, y2: ty, stroke: "#1d2733", "stroke-width": 2, "stroke-dasharray": "6 4", class: "target-line" }));
      svg.append(svgEl("text", { x: W - 12, y: ty - 4, "text-anchor": "end", "font-size": 12, fill: "#1d2733" }, `${t("target")} ${pct(vals[0].target)}`));
    }
    box.append(el("div", { class: "chart" }, el("h3", { text: t("ind." + ind) }), svg));
  }
}

// Live check-ins (polling) of an activity picked from today's and upcoming
// activities in the caller's scope.
let checkinTimer = null;
let watching = "";
function stopCheckins() { if (checkinTimer) clearInterval(checkinTimer); checkinTimer = null; watching = ""; $("#checkins-state").textContent = ""; }

function watchCheckins(id) {
  stopCheckins();
  if (!id) return;
  watching = id;
  pollCheckins(id); checkinTimer = setInterval(() => pollCheckins(id), 3000);
}

// activityLabel is an option's text: when, title, site, organisation and
// check-ins so far.
function activityLabel(a, today) {
  const loc = lang === "zh" ? "zh-CN" : "en-GB";
  const s = new Date(a.starts_at), e = new Date(a.ends_at);
  const hm = (d) => d.toLocaleTimeString(loc, { hour: "2-digit", minute: "2-digit" });
  const md = (d) => d.toLocaleDateString(loc, { month: "short", day: "numeric" });
  const sameDay = s.toDateString() === e.toDateString();
  const when = today && sameDay ? `${hm(s)}–${hm(e)}` : sameDay ? `${md(s)} ${hm(s)}–${hm(e)}` : `${md(s)} ${hm(s)} – ${md(e)} ${hm(e)}`;
  const counts = `${t("checkins.count")} ${fmt(a.check_ins)}` + (a.on_site ? ` · ${t("checkins.open")} ${fmt(a.on_site)}` : "");
  return [when, a.title, a.site, a.org_name, counts].filter((x) => x).join(" · ");
}

// loadActivities fills the picker with the activities running today or
// starting later, soonest first (GET /v1/activities?from=midnight, all
// pages up to 1,000 activities). The selection and the live view survive a
// reload.
let activitiesSeq = 0;
async function loadActivities() {
  const seq = ++activitiesSeq;
  const midnight = new Date(); midnight.setHours(0, 0, 0, 0);
  const tomorrow = new Date(midnight); tomorrow.setDate(tomorrow.getDate() + 1);
  const items = [];
  let cursor = "";
  try {
    for (let i = 0; i < 5; i++) {
      const q = new URLSearchParams({ from: midnight.toISOString(), limit: "200" });
      if (cursor) q.set("cursor", cursor);
      const page = await api("/v1/activities?" + q);
      items.push(...page.items);
      cursor = page.next_cursor || "";
      if (!cursor) break;
    }
  } catch (e) {
    const unavailable = e.status === 404 || e.status === 405;
    $("#checkins-unavailable").hidden = !unavailable;
    if (!unavailable) toast(t("error") + ": " + e.message);
    return;
  }
  if (seq !== activitiesSeq) return; // a newer load is on its way
  $("#checkins-unavailable").hidden = true;
  items.sort((a, b) => new Date(a.starts_at) - new Date(b.starts_at) || a.id - b.id);
  const sel = $("#checkins-activity");
  const keep = watching || sel.value;
  sel.textContent = "";
  const groups = [["today", el("optgroup", { label: t("checkins.today"), "data-group": "today" })],
    ["upcoming", el("optgroup", { label: t("checkins.upcoming"), "data-group": "upcoming" })]];
  for (const a of items) {
    const today = new Date(a.starts_at) < tomorrow;
    groups[today ? 0 : 1][1].append(el("option", { value: String(a.id), text: activityLabel(a, today) }));
  }
  for (const [, g] of groups) if (g.children.length) sel.append(g);
  // A list box, not a drop-down: today's activities and their counts at a
  // glance, one click to watch one.
  sel.size = Math.min(10, Math.max(3, items.length + sel.children.length));
  if (keep && items.some((a) => String(a.id) === keep)) sel.value = keep;
  $("#checkins-none").hidden = items.length > 0;
  sel.dataset.loaded = String(items.length); // what is shown (tests wait for it)
}
async function pollCheckins(id) {
  const box = $("#checkins-result");
  try {
    const r = await api("/v1/reports/activity-checkins?activity=" + id);
    box.textContent = "";
    box.append(el("div", { class: "funnel" }, el("div", {}, r.title || ("#" + id)),
      el("div", {}, t("checkins.total"), el("b", { id: "checkins-total", text: fmt(r.attendances) })),
      el("div", {}, t("checkins.open"), el("b", { id: "checkins-open", text: fmt(r.open) })),
      el("div", {}, t("checkins.minutes"), el("b", { text: fmt(r.minutes) }))));
    const tb = el("tbody");
    for (const a of r.rows) {
      const hm = (v) => new Date(v).toLocaleTimeString(lang === "zh" ? "zh-CN" : "en-GB");
      tb.append(el("tr", {}, el("td", { text: a.name }), el("td", { text: hm(a.in_at) }),
        el("td", { text: a.out_at ? hm(a.out_at) : "—" }), el("td", { class: "num", text: String(a.minutes) })));
    }
    box.append(el("table", {}, el("thead", {}, el("tr", {}, ...["col.volunteer", "checkins.in", "checkins.out", "checkins.minutes"].map((k) => el("th", { text: t(k) })))), tb));
    $("#checkins-state").textContent = t("checkins.live");
  } catch (e) {
    stopCheckins();
    box.textContent = "";
    box.append(el("p", { class: "error", text: e.status === 404 && /not available/.test(e.message) ? t("checkins.unavailable") : e.message }));
  }
}

// Downloads: fetch with the bearer token, then save the blob.
async function download(kind, format) {
  const q = new URLSearchParams({ format });
  if (kind === "targets" || kind === "service-hours") q.set("year", $("#targets-year").value);
  try {
    const res = await api(`/v1/reports/${kind}?${q}`, { raw: true });
    const blob = await res.blob();
    const a = el("a", { href: URL.createObjectURL(blob), download: `${kind}.${format}` });
    document.body.append(a); a.click(); a.remove();
  } catch (e) { toast(t("error") + ": " + e.message); }
}

// Wiring.
document.addEventListener("DOMContentLoaded", () => {
  applyLang();
  $("#lang").addEventListener("click", () => {
    lang = lang === "zh" ? "en" : "zh"; localStorage.setItem("volcard.lang", lang); applyLang();
    if (token()) show(current);
  });
  $("#signout").addEventListener("click", signOut);
  $("#signin-form").addEventListener("submit", (ev) => { ev.preventDefault(); signIn($("#token").value.trim()); });
  document.querySelectorAll("nav button").forEach((b) => b.addEventListener("click", () => show(b.dataset.page)));
  $("#queue-refresh").addEventListener("click", () => loadQueue());
  $("#queue-status").addEventListener("change", () => loadQueue());
  $("#queue-more").addEventListener("click", () => loadQueue(true));
  $("#queue-table").addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-act]"); if (b) decide(b.dataset.act, b.dataset.id);
  });
  $("#vol-form").addEventListener("submit", (ev) => { ev.preventDefault(); findVolunteer($("#vol-id").value.trim()); });
  $("#onsite-new").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const s = await api("/v1/onsite-sessions", { method: "POST", json: { org_id: Number($("#onsite-org").value),
        site: $("#onsite-site").value, date: $("#onsite-date").value, expected_count: Number($("#onsite-count").value),
        product: $("#onsite-product").value } });
      renderSession(s);
      loadOnsiteList();
    } catch (e) { toast(t("error") + ": " + e.message); }
  });
  $("#onsite-refresh").addEventListener("click", () => loadOnsiteList());
  $("#onsite-state").addEventListener("change", () => loadOnsiteList());
  $("#onsite-more").addEventListener("click", () => loadOnsiteList(true));
  $("#onsite-table").addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-open]"); if (b) loadSession(b.dataset.open);
  });
  $("#onsite-rejected-dl").addEventListener("click", downloadRejected);
  $("#onsite-open").addEventListener("submit", (ev) => { ev.preventDefault(); loadSession($("#onsite-id").value); });
  $("#onsite-upload").addEventListener("submit", (ev) => { ev.preventDefault(); const f = $("#onsite-file").files[0]; if (f) uploadRoster(f); });
  $("#onsite-approve").addEventListener("click", async () => {
    try {
      const r = await api(`/v1/onsite-sessions/${onsiteSession}/approve`, { method: "POST" });
      toast(`${t("onsite.approved")}: ${r.approved}`);
      loadOnsiteReport();
      loadOnsiteList();
    } catch (e) { toast(t("error") + ": " + e.message); }
  });
  $("#targets-refresh").addEventListener("click", loadTargets);
  $("#targets-year").addEventListener("change", loadTargets);
  $("#checkins-form").addEventListener("submit", (ev) => { ev.preventDefault(); watchCheckins($("#checkins-activity").value); });
  // A mouse pick in the list box shows as a click (Chromium does not always
  // send change for it), the keyboard as change; either starts watching.
  const pick = () => { const v = $("#checkins-activity").value; if (v && v !== watching) watchCheckins(v); };
  for (const kind of ["change", "click"]) $("#checkins-activity").addEventListener(kind, pick);
  $("#checkins-reload").addEventListener("click", () => loadActivities());
  document.querySelectorAll("button[data-dl]").forEach((b) => b.addEventListener("click", () => download(b.dataset.dl, b.dataset.fmt)));
  const y = new Date().getFullYear();
  const sel = $("#targets-year");
  for (let x = 2019; x <= y; x++) sel.append(el("option", {}, String(x)));
  sel.value = "2017";
  if (token()) signIn(token()); else signOut();
});
