// volcard staff console: plain JavaScript, no build step, no external
// resources. Data from the JSON API is always inserted as text, never as
// HTML.
"use strict";

const I18N = {
  zh: {
    "nav.walkin": "窗口办卡", "nav.orgs": "组织架构", "nav.expiring": "到期卡片", "nav.products": "卡产品", "nav.banks": "银行链路", "nav.recon": "对账",
    "nav.hotline": "热线查询", "nav.branches": "银行网点", "nav.tokens": "令牌与终端", "nav.audit": "操作日志", "save": "保存", "saved": "已保存",
    "instant.approve": "即时发卡：本网点审核通过", "instant.hint": "申请人已在本网点核验身份；审核通过后银行开户、制卡可在本次办理中完成。",
    "instant.off": "本组织未开通即时发卡（由省级管理员在“组织架构”中设置），申请需等待所属组织审核。", "instant.done": "已即时审核通过",
    "hotline.title": "热线查询：申请与卡片进度", "hotline.help": "请来电人报出申请编号和证件号码，两项都正确才能查到；每次查询都记入操作日志。",
    "hotline.notfound": "未查到：申请编号或证件号码不正确。", "hotline.next": "下一步", "hotline.bank": "银行", "hotline.last4": "卡号后四位",
    "hotline.busy": "查询过于频繁，请稍后再试。",
    "voledit.title": "修改志愿者信息", "voledit.hint": "只填要改的项；证件号码不可修改（错误的证件号须重新登记）。", "voledit.name": "更正姓名",
    "voledit.reason": "更正原因（改姓名时必填）", "voledit.org": "调整所属组织", "voledit.nothing": "没有要修改的内容。", "voledit.banks": "已通知发卡银行更新持卡人信息",
    "onsite.template": "名单模板", "onsite.template_cols": "列：姓名、身份证号、手机号、是否团员（是/否）、服装尺码（XS–XXXL）、拼音（选填）",
    "onsite.mode": "本场次已有名单，这次上传", "onsite.mode_append": "追加：新名单中的人加入，已有的人不变",
    "onsite.mode_replace": "替换：以新名单为准，不在其中的人移出并撤销申请", "onsite.mode_needed": "请选择追加或替换。",
    "onsite.uploads": "历次上传", "onsite.upload_no": "编号", "onsite.upload_mode": "方式", "onsite.file": "文件", "onsite.removed": "移出", "onsite.uploaded_rows": "历次上传数据行合计",
    "upload_mode.first": "首次上传", "upload_mode.append": "追加", "upload_mode.replace": "替换",
    "orgedit.title": "修改组织信息", "orgedit.hint": "联系人整体替换；常住人口、团员数与即时发卡政策仅省级管理员可改。", "orgedit.position": "职务",
    "orgedit.pop_year": "人口统计年度", "orgedit.instant": "允许网点即时发卡（含下级组织）", "orgs.instant": "即时发卡",
    "audit.title": "操作日志", "audit.subject": "对象", "audit.subject_id": "对象编号", "audit.kind": "操作", "audit.detail": "内容", "audit.none": "没有记录。",
    "rules.title": "年度目标设定", "rules.set": "设定目标", "rules.indicator": "指标", "rules.kind": "组织类别", "rules.pct": "目标（%）", "rules.note": "备注",
    "rules.scope": "适用组织", "rules.hint": "适用于上面选中的年度和组织（未选组织则为全省）。", "rules.none": "该年度没有设定目标。", "rules.province": "全省",
    "products.edit": "新增或修改卡产品", "products.hint": "BIN 为该产品所有卡号的前缀（6–8 位）；银行批复的卡号不在其中将被拒绝。", "edit": "修改",
    "branches.title": "银行网点与联系人", "branches.name": "网点", "branches.city": "服务地市", "branches.new": "新增网点", "branches.edit": "修改网点联系人",
    "tokens.title": "令牌与签到终端", "tokens.role": "角色", "tokens.inactive": "含已过期、已吊销", "tokens.name": "名称", "tokens.scope": "范围",
    "tokens.hint": "前缀", "tokens.expires": "有效期至", "tokens.new": "发放令牌", "tokens.new_hint": "签到终端即角色为“签到终端”的令牌。令牌只在发放时显示一次。",
    "tokens.branch": "网点编号", "tokens.create": "发放", "tokens.revoke": "吊销", "tokens.expiry": "改有效期", "tokens.never": "长期",
    "tokens.secret": "新令牌（只显示这一次，请立即交给使用人妥善保存）：", "tokens.revoked": "已吊销",
    "tokens.expiry_prompt": "新的有效期（YYYY-MM-DD，留空为长期）", "token_state.active": "有效", "token_state.expired": "已过期", "token_state.revoked": "已吊销",
    "nav.volunteers": "志愿者与卡片", "all": "（全部）", "pick": "（请选择）", "below": "（全部下级）", "ok": "确定", "back": "返回",
    "reason.label": "原因", "reason.hint": "请勿填写卡号、身份证号等个人信息。", "reason.required": "请填写原因。",
    "col.applicant": "申请人", "detail": "详情", "history": "办理记录", "at": "时间", "by": "操作人", "from": "原状态", "to": "新状态",
    "vol.title": "志愿者与卡片", "vol.idn": "证件号码", "vol.name": "姓名", "vol.idtype": "证件类型", "vol.birth": "出生日期（非身份证必填）",
    "vol.phone": "手机号", "vol.size": "服装尺码", "vol.league": "共青团员", "vol.party": "中共党员", "vol.org": "所属组织", "vol.source": "登记渠道",
    "vol.registered": "登记时间", "vol.number": "平台编号", "vol.masked": "（已脱敏）",
    "walkin.title": "窗口办卡：登记 → 申请 → 制卡进度", "walkin.step1": "查找或登记申请人", "walkin.step2": "提交办卡申请",
    "walkin.step3": "审核、银行开户与制卡进度", "walkin.unknown": "未找到此人：请核验证件后登记。", "walkin.register": "登记",
    "walkin.apply": "提交申请", "walkin.found": "已登记的志愿者", "walkin.registered": "登记成功",
    "walkin.applied": "申请已提交", "walkin.live": "每 3 秒自动刷新",
    "walkin.perso": "银行开户后，请在读卡器旁运行：volcard personalize --application {id}（密钥不离开服务器）。",
    "walkin.review": "等待所属组织审核（组织管理员在“申请审核”页处理）。", "walkin.done": "卡已发出，可在“志愿者与卡片”中冻结、解冻或换卡。",
    "cards.title": "卡片", "cards.none": "此人还没有卡。", "cards.pan": "卡号", "cards.expiry": "有效期", "cards.state": "卡状态",
    "cards.product": "卡产品", "cards.block": "冻结（挂失）", "cards.unblock": "解冻", "cards.replace": "换卡", "cards.history": "卡片记录",
    "cards.change": "变更", "cards.result": "银行应答码", "cards.sent": "已提交银行处理",
    "onsite.schedule": "确认排期", "onsite.start": "开始现场服务", "onsite.complete": "完成", "onsite.cancel": "取消场次",
    "onsite.queue": "制卡队列", "onsite.position": "顺序", "onsite.personalize": "制卡", "onsite.attempts": "次数",
    "orgs.title": "组织架构与联系人", "orgs.name": "名称", "orgs.kind": "类别", "orgs.region": "行政区划", "orgs.population": "常住人口",
    "orgs.league": "团员数", "orgs.responsible": "负责人", "orgs.liaison": "联络员", "orgs.children": "下级组织", "orgs.none": "没有下级组织。",
    "orgs.targets": "查看目标", "orgs.new": "新增下级组织", "orgs.new_hint": "建在上面选中的组织之下。", "orgs.create": "新增",
    "orgs.resp_phone": "负责人电话", "orgs.liaison_phone": "联络员电话", "orgs.created": "已新增",
    "expiring.title": "即将到期的卡片", "expiring.within": "天数", "expiring.through": "有效至", "expiring.none": "没有即将到期的卡片。",
    "products.title": "卡产品与 BIN", "products.code": "代码", "products.name": "名称", "products.bank": "发卡银行", "products.bin": "BIN",
    "products.kind": "卡种", "products.org": "适用范围",
    "banks.title": "银行链路与失败的银行请求", "banks.bank": "银行", "banks.health": "状态", "banks.signed": "已签到连接", "banks.echo": "最近心跳",
    "banks.queue": "待发送", "banks.failed": "失败", "banks.requests": "银行请求", "banks.kind": "类型", "banks.card": "卡尾号",
    "banks.attempts": "尝试次数", "banks.result": "结果", "banks.updated": "更新时间", "banks.up": "已连通", "banks.down": "未连通",
    "banks.nolink": "本进程无链路", "banks.retry": "重发", "banks.cancel": "放弃", "banks.none": "没有符合条件的请求。",
    "recon.title": "与银行对账", "recon.date": "业务日期", "recon.bank_cards": "银行卡数", "recon.volcard_cards": "本系统卡数",
    "recon.matched": "一致", "recon.differences": "差异", "recon.download": "下载差异", "recon.none": "暂无对账记录。",
    "hours.add": "补录服务时长", "hours.hours": "小时（可为负数）", "hours.save": "保存", "hours.saved": "已补录",
    "service.title": "志愿服务记录", "service.lifetime": "累计时长（小时）", "service.stars": "星级", "service.tier": "权益等级",
    "service.year": "年度", "service.hours": "小时", "service.activity": "活动", "service.corrected": "已更正",
    "members.title": "团员、党员年度服务时长", "members.expected": "年度要求（小时）", "members.members": "团员/党员人数",
    "members.met": "已达标", "members.below": "未达标", "whoami": "当前身份", "unavailable": "此功能在本服务器上未启用。",
    "title": "广东志愿者卡管理台", "nav.queue": "申请审核", "nav.onsite": "现场办卡",
    "nav.targets": "目标看板", "nav.checkins": "签到实况", "nav.reports": "报表下载", "signout": "退出",
    "signin.title": "使用令牌登录", "signin.submit": "登录",
    "signin.help": "请输入管理员发放的 API 令牌（vc_…）。令牌仅保存在本浏览器标签页的会话存储中。",
    "signin.bad": "令牌无效或已吊销。", "queue.title": "待审核的申请", "queue.status": "状态", "refresh": "刷新",
    "col.number": "申请编号", "col.volunteer": "志愿者", "col.org": "组织", "col.product": "卡产品", "col.channel": "渠道",
    "col.status": "状态", "col.created": "提交时间", "col.actions": "操作", "more": "更多",
    "approve": "通过", "reject": "驳回", "cancel": "撤销", "reason": "请填写原因", "done": "已完成",
    "queue.empty": "没有符合条件的申请。", "search": "查询",
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
    "nav.walkin": "Walk-in", "nav.orgs": "Organisations", "nav.expiring": "Expiring cards", "nav.products": "Products", "nav.banks": "Bank links", "nav.recon": "Reconciliation",
    "nav.hotline": "Hotline", "nav.branches": "Branches", "nav.tokens": "Tokens & terminals", "nav.audit": "Audit log", "save": "Save", "saved": "Saved",
    "instant.approve": "Instant issuance: approve here", "instant.hint": "You have identified the applicant at this branch; once approved, the bank account and the card follow in this visit.",
    "instant.off": "This organisation has no instant issuance (the province admin sets it under Organisations): the application waits for its organisation's review.", "instant.done": "Approved at the counter",
    "hotline.title": "Hotline: a caller's application and card", "hotline.help": "Ask the caller for the application number and the ID number; both must match. Every look-up is audited.",
    "hotline.notfound": "Nothing found: the application number or the ID number is wrong.", "hotline.next": "Next", "hotline.bank": "Bank", "hotline.last4": "Last four",
    "hotline.busy": "Too many look-ups; try again in a moment.",
    "voledit.title": "Edit the volunteer", "voledit.hint": "Fill in only what changes; the ID number cannot be edited (a wrong one is a new registration).", "voledit.name": "Corrected name",
    "voledit.reason": "Reason (required for a name)", "voledit.org": "Move to organisation", "voledit.nothing": "Nothing to change.", "voledit.banks": "holder update sent to the bank",
    "onsite.template": "Roster template", "onsite.template_cols": "Columns: 姓名 name, 身份证号 ID number, 手机号 phone, 是否团员 league member (是/否), 服装尺码 size (XS–XXXL), 拼音 emboss name (optional)",
    "onsite.mode": "This session has a roster; this upload", "onsite.mode_append": "Append: add the new people, keep the others",
    "onsite.mode_replace": "Replace: the new file is the roster; people not in it are removed and their applications cancelled", "onsite.mode_needed": "Choose append or replace.",
    "onsite.uploads": "Uploads", "onsite.upload_no": "No.", "onsite.upload_mode": "Mode", "onsite.file": "File", "onsite.removed": "Removed", "onsite.uploaded_rows": "Rows of all uploads",
    "upload_mode.first": "First", "upload_mode.append": "Append", "upload_mode.replace": "Replace",
    "orgedit.title": "Edit the organisation", "orgedit.hint": "A contact is replaced as a whole; population, league members and instant issuance: province admin only.", "orgedit.position": "Position",
    "orgedit.pop_year": "Population year", "orgedit.instant": "Instant issuance at branches (whole subtree)", "orgs.instant": "Instant issuance",
    "audit.title": "Audit log", "audit.subject": "Subject", "audit.subject_id": "Subject id", "audit.kind": "What", "audit.detail": "Detail", "audit.none": "No entries.",
    "rules.title": "Target rules of the year", "rules.set": "Set a target", "rules.indicator": "Indicator", "rules.kind": "Org kind", "rules.pct": "Target (%)", "rules.note": "Note",
    "rules.scope": "Scope", "rules.hint": "For the year and organisation picked above (none: the province).", "rules.none": "No targets set for this year.", "rules.province": "Province",
    "products.edit": "New or changed product", "products.hint": "The BIN (6–8 digits) prefixes every card of the product; a bank approval outside it is refused.", "edit": "Edit",
    "branches.title": "Bank branches and contacts", "branches.name": "Branch", "branches.city": "City served", "branches.new": "New branch", "branches.edit": "Edit the branch's contact",
    "tokens.title": "Tokens and check-in terminals", "tokens.role": "Role", "tokens.inactive": "Include expired and revoked", "tokens.name": "Name", "tokens.scope": "Scope",
    "tokens.hint": "Hint", "tokens.expires": "Expires", "tokens.new": "Issue a token", "tokens.new_hint": "A check-in terminal is a token of role terminal. The secret is shown once.",
    "tokens.branch": "Branch id", "tokens.create": "Issue", "tokens.revoke": "Revoke", "tokens.expiry": "Change expiry", "tokens.never": "never",
    "tokens.secret": "New token (shown this once; hand it over now):", "tokens.revoked": "Revoked",
    "tokens.expiry_prompt": "New expiry (YYYY-MM-DD, empty for none)", "token_state.active": "Active", "token_state.expired": "Expired", "token_state.revoked": "Revoked",
    "nav.volunteers": "People & cards", "all": "(all)", "pick": "(choose)", "below": "(whole subtree)", "ok": "OK", "back": "Back",
    "reason.label": "Reason", "reason.hint": "No card or ID numbers, please.", "reason.required": "A reason, please.",
    "col.applicant": "Applicant", "detail": "Details", "history": "History", "at": "When", "by": "By", "from": "From", "to": "To",
    "vol.title": "People and their cards", "vol.idn": "ID number", "vol.name": "Name", "vol.idtype": "Document", "vol.birth": "Birth date (non-resident IDs)",
    "vol.phone": "Phone", "vol.size": "Clothing size", "vol.league": "League member", "vol.party": "Party member", "vol.org": "Organisation", "vol.source": "Registered via",
    "vol.registered": "Registered", "vol.number": "Platform number", "vol.masked": "(masked)",
    "walkin.title": "Walk-in: register → apply → personalization", "walkin.step1": "Find or register the applicant", "walkin.step2": "Apply for a card",
    "walkin.step3": "Review, bank and personalization", "walkin.unknown": "Not found: check the document, then register.", "walkin.register": "Register",
    "walkin.apply": "Apply", "walkin.found": "Registered volunteer", "walkin.registered": "Registered",
    "walkin.applied": "Application submitted", "walkin.live": "refreshing every 3 s",
    "walkin.perso": "Once the bank approves, run at the reader: volcard personalize --application {id} (keys never leave the server).",
    "walkin.review": "Waiting for the organisation's review (its admins use the review queue).", "walkin.done": "The card is issued; block, unblock or replace it under People & cards.",
    "cards.title": "Cards", "cards.none": "No cards yet.", "cards.pan": "Card", "cards.expiry": "Expiry", "cards.state": "State",
    "cards.product": "Product", "cards.block": "Block", "cards.unblock": "Unblock", "cards.replace": "Replace", "cards.history": "Card history",
    "cards.change": "Change", "cards.result": "Bank result", "cards.sent": "Sent to the bank",
    "onsite.schedule": "Schedule", "onsite.start": "Start", "onsite.complete": "Complete", "onsite.cancel": "Cancel session",
    "onsite.queue": "Personalization queue", "onsite.position": "Order", "onsite.personalize": "Card", "onsite.attempts": "Tries",
    "orgs.title": "Organisations and contacts", "orgs.name": "Name", "orgs.kind": "Kind", "orgs.region": "Region", "orgs.population": "Population",
    "orgs.league": "League members", "orgs.responsible": "Responsible", "orgs.liaison": "Liaison", "orgs.children": "Sub-organisations", "orgs.none": "No sub-organisations.",
    "orgs.targets": "Targets", "orgs.new": "New sub-organisation", "orgs.new_hint": "under the organisation picked above.", "orgs.create": "Create",
    "orgs.resp_phone": "Responsible's phone", "orgs.liaison_phone": "Liaison's phone", "orgs.created": "Created",
    "expiring.title": "Cards about to expire", "expiring.within": "Days", "expiring.through": "Valid through", "expiring.none": "No cards expire in that time.",
    "products.title": "Card products and BINs", "products.code": "Code", "products.name": "Name", "products.bank": "Bank", "products.bin": "BIN",
    "products.kind": "Kind", "products.org": "For",
    "banks.title": "Bank links and failed bank requests", "banks.bank": "Bank", "banks.health": "Link", "banks.signed": "Signed on", "banks.echo": "Last echo",
    "banks.queue": "Queued", "banks.failed": "Failed", "banks.requests": "Bank requests", "banks.kind": "Kind", "banks.card": "Card",
    "banks.attempts": "Attempts", "banks.result": "Result", "banks.updated": "Updated", "banks.up": "Up", "banks.down": "Down",
    "banks.nolink": "No link here", "banks.retry": "Retry", "banks.cancel": "Give up", "banks.none": "No requests match.",
    "recon.title": "Reconciliation with the banks", "recon.date": "Business date", "recon.bank_cards": "Bank's cards", "recon.volcard_cards": "Our cards",
    "recon.matched": "Matched", "recon.differences": "Differences", "recon.download": "Download differences", "recon.none": "No reconciliations yet.",
    "hours.add": "Add service hours", "hours.hours": "Hours (may be negative)", "hours.save": "Save", "hours.saved": "Hours added",
    "service.title": "Service record", "service.lifetime": "Lifetime hours", "service.stars": "Stars", "service.tier": "Benefit tier",
    "service.year": "Year", "service.hours": "Hours", "service.activity": "Activity", "service.corrected": "corrected",
    "members.title": "League and party members' hours this year", "members.expected": "Expected hours", "members.members": "Members",
    "members.met": "Met", "members.below": "Below", "whoami": "Signed in as", "unavailable": "Not enabled on this server.",
    "title": "Guangdong Volunteer Card Console", "nav.queue": "Review queue", "nav.onsite": "On-site", "nav.targets": "Targets", "nav.checkins": "Check-ins", "nav.reports": "Reports",
    "signout": "Sign out", "signin.title": "Sign in with a token", "signin.submit": "Sign in",
    "signin.help": "Enter the API token (vc_…) your administrator gave you. It is kept in this tab's session storage only.",
    "signin.bad": "The token is unknown or revoked.", "queue.title": "Applications to review", "queue.status": "Status",
    "refresh": "Refresh", "col.number": "Number", "col.volunteer": "Volunteer", "col.org": "Org", "col.product": "Product",
    "col.channel": "Channel", "col.status": "Status", "col.created": "Submitted", "col.actions": "Actions", "more": "More",
    "approve": "Approve", "reject": "Reject", "cancel": "Cancel", "reason": "Reason, please", "done": "Done",
    "queue.empty": "No applications match.", "search": "Search",
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
const STATUSES = Object.keys(LABELS.status);
const PA = "province_admin", OA = "org_admin", BS = "bank_staff", HL = "hotline";

// VIEWS are the console's pages: a <section id="page-ID"> in index.html,
// a nav button with data-page="ID", and here the roles that see it and
// what to do when it is shown. A new page (e.g. tokens, once its routes
// exist) is one more of each; docs/console.md lists the routes each uses.
const VIEWS = {
  walkin: { roles: [BS], load: () => walkinResume() },
  hotline: { roles: [HL], load: () => $("#hotline-number").focus() },
  queue: { roles: [PA, OA, BS], load: () => loadQueue() },
  volunteers: { roles: [PA, OA, BS], load: () => { if (volShown) findVolunteer($("#vol-id").value.trim()); } },
  onsite: { roles: [PA, OA, BS], load: () => loadOnsiteList() },
  orgs: { roles: [PA, OA], load: () => loadOrgDetail() },
  targets: { roles: [PA, OA], load: () => loadTargets() },
  checkins: { roles: [PA, OA], load: () => loadActivities() },
  expiring: { roles: [PA, OA], load: () => {} },
  products: { roles: [PA], load: () => loadProductsPage() },
  banks: { roles: [PA], load: () => loadBanks() },
  branches: { roles: [PA, BS], load: () => loadBranches() },
  recon: { roles: [PA, BS], load: () => loadRecon() },
  tokens: { roles: [PA], load: () => loadTokens() },
  audit: { roles: [PA], load: () => loadAudit() },
  reports: { roles: [PA, OA, BS], load: () => {} },
};
// HOME is the first page of a role.
const HOME = { [BS]: "walkin", [HL]: "hotline" };

let lang = localStorage.getItem("volcard.lang") || "zh";
const $ = (sel) => document.querySelector(sel);
const t = (k) => (I18N[lang] && I18N[lang][k]) || I18N.zh[k] || k;
// L labels a code of the API (a status, channel, role ...) from LABELS;
// an unknown code shows as itself.
const L = (group, code) => {
  const e = LABELS[group] && LABELS[group][code];
  return e ? (e[lang] || e.zh) : (code || "—");
};
const loc = () => (lang === "zh" ? "zh-CN" : "en-GB");
const when = (v) => (v ? new Date(v).toLocaleString(loc()) : "—");
const fmt = (n) => Number(n).toLocaleString(loc());

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v; else if (k === "text") e.textContent = v; else e.setAttribute(k, v);
  }
  for (const c of kids) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}
const table = (id, heads, rows) => el("div", { class: "scroll" }, el("table", { id },
  el("thead", {}, el("tr", {}, ...heads.map((h) => el("th", { class: h.startsWith("#") ? "num" : "", text: h.startsWith("#") ? t(h.slice(1)) : t(h) })))),
  el("tbody", {}, ...rows)));

// fillLabelSelects (re)fills every <select data-labels="group"> with the
// group's codes in the current language, keeping the selection.
function fillLabelSelects() {
  document.querySelectorAll("select[data-labels]").forEach((sel) => {
    const keep = sel.dataset.filled ? sel.value : (sel.dataset.default || "");
    sel.textContent = "";
    if (sel.dataset.all) sel.append(el("option", { value: "" }, t("all")));
    const only = sel.dataset.only ? sel.dataset.only.split(" ") : null;
    for (const code of Object.keys(LABELS[sel.dataset.labels])) if (!only || only.includes(code)) sel.append(el("option", { value: code }, L(sel.dataset.labels, code)));
    sel.value = keep;
    if (sel.selectedIndex < 0) sel.selectedIndex = 0;
    sel.dataset.filled = "1";
  });
}

function applyLang() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.querySelectorAll("[data-i18n]").forEach((n) => { n.textContent = t(n.dataset.i18n); });
  $("#lang").textContent = lang === "zh" ? "English" : "中文";
  document.title = t("title") + " · volcard";
  fillLabelSelects();
  fillProductSelects();
  fillTargetSelects();
  showWhoami();
  document.querySelectorAll(".orgpick select").forEach((s) => {
    s.setAttribute("aria-label", t("org"));
    if (s.options.length) s.options[0].textContent = s.dataset.level === "0" ? t("pick") : t("below");
  });
}

function toast(msg) {
  const n = $("#toast");
  n.textContent = msg;
  n.classList.add("show");
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => n.classList.remove("show"), 4000);
}
const fail = (e) => toast(t("error") + ": " + e.message);

const token = () => sessionStorage.getItem("volcard.token");

class APIError extends Error {
  constructor(status, problem) { super((problem && (problem.detail || problem.title)) || ("HTTP " + status)); this.status = status; }
}

async function api(path, opts = {}) {
  const headers = Object.assign({ "Authorization": "Bearer " + token(), "Accept": "application/json" }, opts.headers || {});
  if (opts.json !== undefined) { headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(opts.json); }
  if (["POST", "PUT", "PATCH"].includes(opts.method) && !headers["Idempotency-Key"]) headers["Idempotency-Key"] = crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2);
  const res = await fetch(path, { method: opts.method || "GET", headers, body: opts.body });
  if (opts.raw) { if (!res.ok) throw new APIError(res.status, await res.json().catch(() => null)); return res; }
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    if (res.status === 401) signOut();
    throw new APIError(res.status, body);
  }
  return body;
}

// askReason opens the reason dialog (keyboard: type, Enter; Esc to go
// back) and resolves to the reason, or null when the user goes back.
function askReason(title, required) {
  const d = $("#reason-dialog"), input = $("#reason-input");
  $("#reason-title").textContent = title;
  input.value = ""; input.required = !!required;
  d.showModal(); input.focus();
  return new Promise((resolve) => {
    const done = (v) => { d.close(); $("#reason-form").onsubmit = null; $("#reason-cancel").onclick = null; d.oncancel = null; resolve(v); };
    $("#reason-form").onsubmit = (ev) => { ev.preventDefault(); const v = input.value.trim(); if (required && !v) { input.focus(); return; } done(v); };
    $("#reason-cancel").onclick = () => done(null);
    d.oncancel = (ev) => { ev.preventDefault(); done(null); };
  });
}

// Who is signed in (GET /v1/me) decides the pages.
let me = null;
function showWhoami() {
  const w = $("#whoami");
  if (!me) { w.hidden = true; return; }
  w.hidden = false;
  w.textContent = L("role", me.role) + (me.org_name ? " · " + me.org_name : "") + (me.bank ? " · " + me.bank : "");
  w.dataset.role = me.role;
}
const allowed = (page) => me && VIEWS[page] && VIEWS[page].roles.includes(me.role);

// Navigation.
let current = "";
function show(page) {
  if (!allowed(page)) page = HOME[me.role] || Object.keys(VIEWS).find(allowed);
  current = page;
  document.querySelectorAll(".page").forEach((p) => { p.hidden = p.id !== "page-" + page; });
  document.querySelectorAll("nav button").forEach((b) => {
    b.classList.toggle("active", b.dataset.page === page);
    if (b.dataset.page === page) b.setAttribute("aria-current", "page"); else b.removeAttribute("aria-current");
  });
  if (page !== "checkins") stopCheckins();
  if (page !== "walkin") stopWalkin();
  VIEWS[page].load();
}

function signOut() {
  sessionStorage.removeItem("volcard.token");
  me = null; showWhoami();
  $("#nav").hidden = true; $("#signout").hidden = true;
  document.querySelectorAll(".page").forEach((p) => { p.hidden = p.id !== "page-signin"; });
}

async function signIn(tok) {
  sessionStorage.setItem("volcard.token", tok);
  try {
    me = await api("/v1/me");
  } catch (e) {
    sessionStorage.removeItem("volcard.token");
    $("#signin-error").textContent = e.status === 401 ? t("signin.bad") : (t("error") + ": " + e.message);
    signOut();
    return;
  }
  $("#signin-error").textContent = "";
  $("#nav").hidden = false; $("#signout").hidden = false;
  document.querySelectorAll("nav button").forEach((b) => { b.hidden = !allowed(b.dataset.page); });
  document.querySelectorAll("[data-roles]").forEach((n) => { n.hidden = !n.dataset.roles.split(" ").includes(me.role); });
  document.body.dataset.role = me.role;
  showWhoami();
  await loadProducts();
  document.querySelectorAll(".orgpick").forEach((box) => orgPicker(box));
  show(current);
}

// Organisations: names by id (cached), and a picker that walks the tree
// one level at a time (GET /v1/orgs?parent=), so that any organisation is
// chosen by name, never by typing its id.
const orgCache = new Map();
async function orgName(id) {
  if (!id) return "";
  if (!orgCache.has(id)) orgCache.set(id, api("/v1/orgs/" + id).then((o) => o.name).catch(() => "#" + id));
  return orgCache.get(id);
}
const childCache = new Map();
function orgChildren(parent) {
  if (!childCache.has(parent)) {
    childCache.set(parent, api("/v1/orgs" + (parent ? "?parent=" + parent : "")).then(async (r) => {
      let items = r.items || [];
      // An org admin's own organisation is its root (it is not a root of the tree).
      if (!parent && !items.length && me.org_id) items = [await api("/v1/orgs/" + me.org_id)];
      for (const o of items) orgCache.set(o.id, Promise.resolve(o.name));
      return items;
    }).catch((e) => { childCache.delete(parent); throw e; }));
  }
  return childCache.get(parent);
}

// orgPicker turns <span class="orgpick" data-target="ID"> into a row of
// selects: the roots, then the children of what is picked, and so on. The
// hidden input #ID holds the deepest organisation picked ("" for none)
// and gets a change event when it changes.
async function orgPicker(box) {
  const target = document.getElementById(box.dataset.target);
  box.querySelectorAll("select").forEach((s) => s.remove());
  target.value = "";
  const level = async (parent, depth) => {
    let kids;
    try { kids = await orgChildren(parent); } catch (e) { fail(e); return; }
    if (!kids.length) return;
    const sel = el("select", { "data-level": depth, "aria-label": t("org") });
    sel.append(el("option", { value: "" }, depth === 0 ? t("pick") : t("below")));
    for (const o of kids) sel.append(el("option", { value: String(o.id) }, o.name));
    box.append(sel);
    sel.addEventListener("change", async () => {
      box.dataset.ready = ""; // being loaded
      box.querySelectorAll("select").forEach((s) => { if (Number(s.dataset.level) > depth) s.remove(); });
      const up = depth > 0 ? box.querySelector(`select[data-level="${depth - 1}"]`).value : "";
      target.value = sel.value || up;
      target.dispatchEvent(new Event("change"));
      if (sel.value) await level(Number(sel.value), depth + 1);
      box.dataset.ready = target.value; // what is picked (tests wait for it)
    });
    // One root only (an org admin's organisation, the province): take it.
    if (depth === 0 && kids.length === 1) { sel.value = String(kids[0].id); target.value = sel.value; await level(kids[0].id, 1); }
  };
  await level(0, 0);
  box.dataset.ready = target.value;
  // The organisations page shown before its picker took the only root.
  if (box.id === "orgs-orgpick" && current === "orgs" && target.value && !$("#orgs-detail").childElementCount) loadOrgDetail();
}

// Products: picked by name from GET /v1/products, never typed.
let products = [];
async function loadProducts() {
  try { products = (await api("/v1/products")).items || []; } catch (e) { products = []; fail(e); }
  fillProductSelects();
}
function fillProductSelects() {
  document.querySelectorAll("select.products").forEach((sel) => {
    const keep = sel.value;
    sel.textContent = "";
    if (sel.dataset.all) sel.append(el("option", { value: "" }, t("all")));
    for (const p of products) sel.append(el("option", { value: p.code }, `${p.name}（${p.code}）`));
    if (keep) sel.value = keep;
  });
}
const productName = (code) => { const p = products.find((x) => x.code === code); return p ? p.name : code; };

// Review queue: every status, channel, product and organisation as a
// filter; names, not ids.
let queueCursor = "", queueSeq = 0;
async function loadQueue(more) {
  const seq = ++queueSeq; // a newer filter's answer wins
  const tbody = $("#queue-table tbody");
  const q = new URLSearchParams({ limit: "50" });
  for (const [k, sel] of [["status", "#queue-status"], ["channel", "#queue-channel"], ["product", "#queue-product"], ["org", "#queue-org"]]) {
    const v = $(sel).value; if (v) q.set(k, v);
  }
  if (more && queueCursor) q.set("cursor", queueCursor);
  const key = q.toString();
  try {
    const page = await api("/v1/applications?" + q);
    if (seq !== queueSeq) return;
    if (!more) { tbody.textContent = ""; $("#queue-detail").textContent = ""; }
    queueCursor = page.next_cursor || "";
    $("#queue-more").hidden = !queueCursor;
    if (!page.items.length && !more) tbody.append(el("tr", {}, el("td", { colspan: "8", text: t("queue.empty") })));
    const review = me.role === PA || me.role === OA;
    for (const a of page.items) {
      const actions = el("td", { class: "actions" }, el("button", { type: "button", "data-act": "detail", "data-id": a.id }, t("detail")), " ");
      if (review && a.status === "submitted") {
        actions.append(el("button", { type: "button", "data-act": "approve", "data-id": a.id, class: "primary" }, t("approve")), " ",
          el("button", { type: "button", "data-act": "reject", "data-id": a.id }, t("reject")), " ");
      }
      if (a.status === "submitted" || a.status === "approved") actions.append(el("button", { type: "button", "data-act": "cancel", "data-id": a.id }, t("cancel")));
      tbody.append(el("tr", { "data-app": a.id },
        el("td", { text: a.number }), el("td", { class: "applicant", text: a.volunteer_name || "—" }),
        el("td", { class: "org", text: a.org_name || "—" }),
        el("td", { class: "product", title: a.product, text: productName(a.product) }),
        el("td", { class: "channel", "data-code": a.channel, text: L("channel", a.channel) }),
        el("td", { class: "status", "data-code": a.status }, el("span", { class: "state " + a.status, text: L("status", a.status) })),
        el("td", { text: when(a.created_at) }), actions));
    }
    $("#queue-table").dataset.key = key; // what is shown (tests wait for it)
  } catch (e) { fail(e); }
}

async function decide(act, id) {
  if (act === "detail") { showApplication($("#queue-detail"), id); return; }
  let body;
  if (act !== "approve") {
    const reason = await askReason(t(act), act === "reject");
    if (reason === null) return;
    body = { reason };
  }
  try {
    const a = await api(`/v1/applications/${id}/${act}`, { method: "POST", json: body });
    toast(t("done") + ": " + a.number + " → " + L("status", a.status));
    loadQueue();
  } catch (e) { fail(e); }
}

// showApplication shows an application and its history (its status
// changes: who, when, channel, reason).
async function showApplication(box, id) {
  try {
    const [a, ev] = await Promise.all([api("/v1/applications/" + id), api(`/v1/applications/${id}/events`)]);
    box.textContent = "";
    box.append(el("h3", { text: `${t("col.number")} ${a.number}` }),
      el("p", {}, el("span", { class: "state " + a.status, "data-code": a.status, id: box.id + "-status", text: L("status", a.status) }),
        ` · ${productName(a.product)} · ${L("channel", a.channel)}` + (a.reason ? ` · ${a.reason}` : "")));
    box.append(table(box.id + "-events", ["at", "from", "to", "by", "col.channel", "reason.label"],
      (ev.items || []).map((e) => el("tr", { "data-to": e.to }, el("td", { text: when(e.at) }), el("td", { text: e.from ? L("status", e.from) : "—" }),
        el("td", { text: L("status", e.to) }), el("td", { text: L("role", e.actor_role) }), el("td", { text: L("channel", e.channel) }),
        el("td", { text: e.reason || "" })))));
    return a;
  } catch (e) { fail(e); return null; }
}

// Walk-in registration at a branch: find the person by ID number or
// register them, apply, then follow the application until the card is
// issued (the status refreshes every 3 s).
let walkinVolunteer = null, walkinApp = 0, walkinTimer = null;
function stopWalkin() { if (walkinTimer) clearInterval(walkinTimer); walkinTimer = null; }
function walkinReset() {
  stopWalkin();
  $("#walkin-instant").hidden = true; $("#walkin-instant-off").hidden = true;
  policyCache.clear(); // a policy changed meanwhile counts for the next walk-in
  walkinVolunteer = null; walkinApp = 0;
  $("#walkin-register").hidden = true; $("#walkin-apply").hidden = true;
  $("#walkin-person").textContent = ""; $("#walkin-status").textContent = "";
  setStep(1);
}
// walkinResume shows the page again (after another page or the language
// switch) without losing the application being followed.
function walkinResume() {
  if (!walkinApp) { if (!walkinVolunteer) walkinReset(); return; }
  walkinPoll();
  if (!walkinTimer) walkinTimer = setInterval(walkinPoll, 3000);
}
function setStep(n) { for (let i = 1; i <= 3; i++) $("#walkin-step" + i).classList.toggle("current", i === n); }

function personCard(v) {
  const dl = el("dl", { class: "card", id: "person-" + v.id });
  const rows = [["vol.name", v.name], ["vol.idtype", L("id_type", v.id_type)], ["vol.idn", v.id_number + (v.id_number_masked ? " " + t("vol.masked") : "")],
    ["vol.phone", v.phone], ["vol.org", "…"], ["vol.league", v.league_member ? "✓" : "—"], ["vol.size", v.clothing_size || "—"],
    ["vol.source", L("channel", v.source)], ["vol.registered", when(v.created_at)]];
  for (const [k, val] of rows) dl.append(el("dt", { text: t(k) }), el("dd", { "data-k": k, text: String(val) }));
  orgName(v.org_id).then((n) => { dl.querySelector('dd[data-k="vol.org"]').textContent = n; });
  return dl;
}

async function walkinFind(idn) {
  walkinReset();
  try {
    const v = await api("/v1/volunteers?id_number=" + encodeURIComponent(idn));
    walkinFound(v);
  } catch (e) {
    if (e.status !== 404) { fail(e); return; }
    $("#walkin-register").hidden = false;
    $("#walkin-name").focus();
  }
}
function walkinFound(v) {
  walkinVolunteer = v;
  $("#walkin-register").hidden = true;
  $("#walkin-person").textContent = "";
  $("#walkin-person").append(el("h3", { text: t("walkin.found") }), personCard(v));
  $("#walkin-apply").hidden = false;
  setStep(2);
  $("#walkin-product").focus();
}
async function walkinRegister() {
  const body = { name: $("#walkin-name").value.trim(), id_type: $("#walkin-idtype").value, id_number: $("#walkin-idn").value.trim(),
    phone: $("#walkin-phone").value.trim(), org_id: Number($("#walkin-org").value), clothing_size: $("#walkin-size").value,
    league_member: $("#walkin-league").checked, party_member: $("#walkin-party").checked };
  if ($("#walkin-birth").value) body.birth_date = $("#walkin-birth").value;
  try {
    const v = await api("/v1/volunteers", { method: "POST", json: body });
    toast(t("walkin.registered") + ": " + v.name);
    walkinFound(v);
  } catch (e) { fail(e); }
}
async function walkinApply() {
  try {
    const a = await api("/v1/applications", { method: "POST", json: { volunteer_id: walkinVolunteer.id, product: $("#walkin-product").value } });
    toast(t("walkin.applied") + ": " + a.number);
    $("#walkin-apply").hidden = true;
    walkinApp = a.id;
    setStep(3);
    await walkinPoll();
    walkinTimer = setInterval(walkinPoll, 3000);
  } catch (e) { fail(e); }
}
async function walkinPoll() {
  const box = $("#walkin-status");
  const a = await showApplication(box, walkinApp);
  if (!a) { stopWalkin(); return; }
  const hint = a.status === "submitted" ? t("walkin.review")
    : ["issued", "activated"].includes(a.status) ? t("walkin.done")
      : ["approved", "bank_pending", "bank_approved", "personalized"].includes(a.status) ? t("walkin.perso").replace("{id}", a.id) : "";
  box.append(el("p", { class: "notice", id: "walkin-hint", text: hint }), el("p", { class: "hint", text: t("walkin.live") }));
  walkinInstant(a);
  if (["issued", "activated", "rejected", "bank_declined", "cancelled"].includes(a.status)) stopWalkin();
}

// People and their cards: block, unblock, replace, and each card's
// history.
let volShown = null;
async function findVolunteer(idNumber) {
  const box = $("#vol-result"); box.textContent = ""; $("#vol-edit").hidden = true; $("#vol-cards").textContent = ""; $("#vol-history").textContent = "";
  try {
    const v = await api("/v1/volunteers?id_number=" + encodeURIComponent(idNumber));
    volShown = v;
    box.append(personCard(v));
    showVolunteerEdit();
    await loadCards();
    await loadService();
  } catch (e) { box.append(el("p", { class: "error", text: e.status === 404 ? t("vol.notfound") : e.message })); }
}
async function loadCards() {
  const box = $("#vol-cards");
  try {
    const r = await api(`/v1/volunteers/${volShown.id}/cards`);
    box.textContent = "";
    box.append(el("h3", { text: t("cards.title") }));
    if (!r.items.length) { box.append(el("p", { text: t("cards.none") })); return; }
    box.append(table("cards-table", ["cards.pan", "cards.product", "cards.expiry", "cards.state", "col.number", "col.actions"], r.items.map((c) => {
      const acts = el("td", { class: "actions" });
      const btn = (change) => el("button", { type: "button", "data-card": c.id, "data-change": change }, t("cards." + change));
      if (!c.pending_change && ["issued", "active"].includes(c.confirmed_state)) acts.append(btn("block"), " ", btn("replace"), " ");
      if (!c.pending_change && c.confirmed_state === "blocked") acts.append(btn("unblock"), " ", btn("replace"), " ");
      // More actions (close, renew, the test bank's) come from app-money.js.
      if (typeof cardMoreActions === "function") cardMoreActions(c, acts);
      acts.append(el("button", { type: "button", "data-card": c.id, "data-change": "history" }, t("cards.history")));
      return el("tr", { "data-card": c.id }, el("td", { text: c.masked_pan }), el("td", { text: productName(c.product) }), el("td", { text: c.expiry }),
        el("td", { class: "state-cell", "data-code": c.state }, el("span", { class: "state " + c.state, text: L("card", c.state) }),
          c.block_reason ? " · " + c.block_reason : ""),
        el("td", { text: c.application_number }), acts);
    })));
    box.dataset.loaded = String(Date.now());
  } catch (e) { fail(e); }
}
// The person's service record (hours per year, stars, benefit tier,
// activities); admins may add hours outside taps, with a reason.
async function loadService() {
  const box = $("#vol-service");
  $("#hours-form").hidden = !(me.role === PA || me.role === OA);
  try {
    const r = await api(`/v1/volunteers/${volShown.id}/service-record`);
    box.textContent = "";
    const dl = el("dl", { class: "card", id: "service-card" });
    for (const [k, v] of [["service.lifetime", fmt(r.lifetime_hours)], ["service.stars", "★".repeat(r.stars) || "—"], ["service.tier", L("tier", r.tier)]]) {
      dl.append(el("dt", { text: t(k) }), el("dd", { "data-k": k, text: v }));
    }
    box.append(el("h3", { text: t("service.title") }), dl,
      table("service-years", ["service.year", "#service.hours"], (r.years || []).map((y) => el("tr", { "data-year": y.year },
        el("td", { text: String(y.year) }), el("td", { class: "num", text: fmt(y.hours) })))),
      table("service-activities", ["service.activity", "checkins.in", "checkins.out", "#service.hours"], (r.activities || []).map((a) => el("tr", {},
        el("td", { text: a.title + (a.corrected ? ` (${t("service.corrected")})` : "") }), el("td", { text: when(a.in_at) }),
        el("td", { text: when(a.out_at) }), el("td", { class: "num", text: fmt(a.hours) })))));
  } catch (e) { box.textContent = ""; if (e.status !== 404 && e.status !== 405) fail(e); }
}
async function addHours() {
  try {
    await api(`/v1/volunteers/${volShown.id}/service-hours`, { method: "POST", json: { year: Number($("#hours-year").value),
      hours: Number($("#hours-hours").value), reason: $("#hours-reason").value.trim() } });
    toast(t("hours.saved"));
    $("#hours-hours").value = ""; $("#hours-reason").value = "";
    await loadService();
  } catch (e) { fail(e); }
}

async function cardAction(id, change) {
  if (change === "history") { cardHistory(id); return; }
  let body;
  if (change === "unblock") body = {};
  else {
    const reason = await askReason(t("cards." + change), true);
    if (reason === null) return;
    body = { reason };
  }
  try {
    const c = await api(`/v1/cards/${id}/${change}`, { method: "POST", json: body });
    toast(t("cards.sent") + ": " + c.masked_pan + " → " + L("card", c.state));
    await loadCards();
    await cardHistory(id);
  } catch (e) { fail(e); }
}
async function cardHistory(id) {
  const box = $("#vol-history");
  try {
    const r = await api(`/v1/cards/${id}/events`);
    box.textContent = "";
    box.append(el("h3", { text: t("cards.history") }), table("card-events", ["at", "col.status", "cards.change", "by", "reason.label", "cards.result"],
      r.items.map((e) => el("tr", { "data-kind": e.kind }, el("td", { text: when(e.at) }), el("td", { text: L("card_event", e.kind) }),
        el("td", { text: e.change ? L("change", e.change) : "—" }), el("td", { text: L("role", e.actor_role) }),
        el("td", { text: e.reason || "" }), el("td", { text: e.result_code || "" })))));
    box.dataset.card = String(id);
  } catch (e) { fail(e); }
}

// On-site sessions.
let onsiteSession = 0;
let onsiteCursor = "";
const stateLabel = (st) => L("session", st);

// loadOnsiteList shows the sessions in the caller's scope, newest first. A
// server without the on-site API answers 404/405: the page says so.
let onsiteSeq = 0;
async function loadOnsiteList(more) {
  const seq = ++onsiteSeq;
  const tbody = $("#onsite-table tbody");
  const q = new URLSearchParams({ limit: "20" });
  const st = $("#onsite-state").value; if (st) q.set("state", st);
  if (more && onsiteCursor) q.set("cursor", onsiteCursor);
  let page;
  try {
    page = await api("/v1/onsite-sessions?" + q);
    if (seq !== onsiteSeq) return;
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
  const acts = $("#onsite-actions"); acts.hidden = false;
  const can = { schedule: s.status === "requested", start: s.status === "scheduled", complete: s.status === "in_progress",
    cancel: ["requested", "scheduled", "in_progress"].includes(s.status) };
  acts.querySelectorAll("button[data-session-act]").forEach((b) => {
    const act = b.dataset.sessionAct;
    b.hidden = !can[act] || (act !== "cancel" && me.role === OA);
  });
  $("#onsite-approve").hidden = me.role === BS;
  $("#onsite-queue").textContent = "";
  document.querySelectorAll("#onsite-table tr[data-session]").forEach((tr) => tr.classList.toggle("selected", Number(tr.dataset.session) === s.id));
  $("#onsite-upload").hidden = false;
  // The mode is asked once the session's report shows it has a roster
  // (renderUploads); an upload before that which needs one gets the API's 409.
  $("#onsite-mode-box").hidden = true; $("#onsite-mode").required = false; $("#onsite-mode").value = "";
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
  } catch (e) { fail(e); }
}

async function loadOnsiteReport() {
  if (!onsiteSession) return;
  try {
    const r = await api(`/v1/onsite-sessions/${onsiteSession}/report`);
    const box = $("#onsite-report");
    const old = box.querySelector(".funnel"); if (old) old.remove();
    const f = el("div", { class: "funnel", id: "onsite-counts" });
    for (const k of ["requested", "accepted", "rejected", "submitted", "approved", "sent", "personalized", "failed", "cancelled"]) {
      const label = { requested: t("onsite.expected"), accepted: L("row", "accepted"), rejected: L("row", "rejected"), sent: L("status", "bank_pending"),
        failed: L("personalize", "failed") }[k] || L("status", k);
      f.append(el("div", { title: k }, label, el("b", { "data-k": k, text: String(r[k] ?? 0) })));
    }
    box.prepend(f);
    renderUploads(r);
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
      el("td", { class: "num", text: String(r.line) }), el("td", { text: L("row", r.status) }), el("td", { text: r.name }),
      el("td", { text: r.id_number }), el("td", { text: r.phone }), el("td", { text: reasons })));
  }
  box.append(el("div", { class: "scroll" }, el("table", { id: "roster-rows" }, el("thead", {}, el("tr", {},
    ...["onsite.line", "onsite.result", "onsite.name", "onsite.idn", "onsite.phone", "onsite.reasons"].map((k) => el("th", { "data-i18n": k, class: k === "onsite.line" ? "num" : "", text: t(k) })))), tb)));
  // Masked values cannot be searched for: say how to find the rows.
  $("#onsite-masked-help").hidden = !rep.items.some((r) => r.status === "rejected" && /\*/.test(r.id_number || ""));
  $("#onsite-rejected").hidden = !(rep.rejected > 0);
  loadOnsiteReport();
  loadOnsiteList();
}

async function uploadRoster(file) {
  const fd = new FormData(); fd.append("file", file, file.name);
  try {
    const mode = $("#onsite-mode-box").hidden ? "" : $("#onsite-mode").value;
    if (!$("#onsite-mode-box").hidden && !mode) { toast(t("onsite.mode_needed")); $("#onsite-mode").focus(); return; }
    const res = await fetch(`/v1/onsite-sessions/${onsiteSession}/roster` + (mode ? "?mode=" + mode : ""), { method: "POST", body: fd,
      headers: { "Authorization": "Bearer " + token() } });
    const body = await res.json().catch(() => null);
    if (!res.ok) throw new APIError(res.status, body);
    renderRoster(body);
    $("#onsite-mode").value = ""; // each further upload says again what it does
    toast(t("done"));
  } catch (e) { fail(e); if (e.status === 409) loadOnsiteReport(); }
}


// The on-site session's actions (schedule, start, complete, cancel) and its
// personalization queue in roster order.
async function sessionAction(act) {
  let body;
  if (act === "cancel") {
    const reason = await askReason(t("onsite.cancel"), false);
    if (reason === null) return;
    body = reason ? { reason } : undefined;
  }
  try {
    const s = await api(`/v1/onsite-sessions/${onsiteSession}/${act}`, { method: "POST", json: body });
    toast(t("done") + ": " + L("session", s.status));
    renderSession(s); loadOnsiteReport(); loadOnsiteList();
  } catch (e) { fail(e); }
}
async function loadOnsiteQueue() {
  const box = $("#onsite-queue");
  try {
    const q = await api(`/v1/onsite-sessions/${onsiteSession}/queue`);
    box.textContent = "";
    box.append(el("h3", { text: t("onsite.queue") }), table("onsite-queue-table", ["#onsite.position", "col.number", "onsite.name", "col.status", "onsite.personalize", "#onsite.attempts"],
      q.items.map((i) => el("tr", { "data-entry": i.entry_id }, el("td", { class: "num", text: String(i.position) }), el("td", { text: i.application_number }),
        el("td", { text: i.name }), el("td", { "data-code": i.status, text: L("status", i.status) }),
        el("td", { "data-code": i.personalize, text: L("personalize", i.personalize) + (i.note ? " · " + i.note : "") }),
        el("td", { class: "num", text: String(i.attempts) })))));
  } catch (e) { fail(e); }
}

// Organisations: the picked one with its contacts and figures, and its
// children.
let orgSeq = 0;
async function loadOrgDetail() {
  const seq = ++orgSeq; // answers of an earlier pick that come late are dropped
  // Before the picker has loaded, an org admin's own organisation.
  const id = $("#orgs-org").value || (me.org_id ? String(me.org_id) : "");
  const box = $("#orgs-detail"), tbody = $("#orgs-children tbody");
  $("#org-new").hidden = !id; $("#org-edit").hidden = true;
  if (!id) { box.textContent = ""; tbody.textContent = ""; return; }
  try {
    const [o, kids] = await Promise.all([api("/v1/orgs/" + id), orgChildren(Number(id))]);
    if (seq !== orgSeq) return;
    box.textContent = "";
    const contact = (c) => (c && c.name ? `${c.name} ${c.phone || ""}` : "—");
    const dl = el("dl", { class: "card", id: "org-card" });
    for (const [k, v] of [["orgs.name", o.name], ["orgs.kind", L("org_kind", o.kind)], ["orgs.region", o.region_code || "—"],
      ["orgs.population", o.resident_population ? fmt(o.resident_population) + (o.population_year ? ` (${o.population_year})` : "") : "—"],
      ["orgs.league", fmt(o.league_members || 0)], ["orgs.responsible", contact(o.responsible)], ["orgs.liaison", contact(o.liaison)]]) {
      dl.append(el("dt", { text: t(k) }), el("dd", { "data-k": k, text: String(v) }));
    }
    const go = el("button", { type: "button", id: "orgs-targets" }, t("orgs.targets"));
    go.addEventListener("click", () => { show("targets"); $("#targets-org").value = id; loadTargets(); });
    box.append(dl, el("div", { class: "bar" }, go), el("h3", { text: t("orgs.children") }));
    tbody.textContent = "";
    if (!kids.length) tbody.append(el("tr", {}, el("td", { colspan: "7", text: t("orgs.none") })));
    fillOrgEdit(o);
    loadMemberHours(id);
    for (const k of kids) {
      tbody.append(el("tr", { "data-org": k.id }, el("td", { text: k.name }), el("td", { text: L("org_kind", k.kind) }), el("td", { text: k.region_code || "—" }),
        el("td", { class: "num", text: k.resident_population ? fmt(k.resident_population) : "—" }), el("td", { class: "num", text: fmt(k.league_members || 0) }),
        el("td", { text: contact(k.responsible) }), el("td", { text: contact(k.liaison) })));
    }
  } catch (e) { fail(e); }
}

// createOrg adds an organisation under the one picked.
async function createOrg() {
  const parent = Number($("#orgs-org").value);
  const v = (id) => $(id).value.trim();
  const body = { parent_id: parent, kind: $("#org-new-kind").value, name: v("#org-new-name") };
  if (v("#org-new-region")) body.region_code = v("#org-new-region");
  if (v("#org-new-population")) body.resident_population = Number(v("#org-new-population"));
  if (v("#org-new-league")) body.league_members = Number(v("#org-new-league"));
  if (v("#org-new-resp")) body.responsible = { name: v("#org-new-resp"), phone: v("#org-new-resp-phone") };
  if (v("#org-new-liaison")) body.liaison = { name: v("#org-new-liaison"), phone: v("#org-new-liaison-phone") };
  try {
    const o = await api("/v1/orgs", { method: "POST", json: body });
    toast(t("orgs.created") + ": " + o.name);
    childCache.delete(parent);
    $("#org-new").reset(); $("#org-new-kind").value = "university";
    await loadOrgDetail();
    // The pickers offer it from now on.
    document.querySelectorAll(".orgpick").forEach((b) => { if (b.id !== "orgs-orgpick") orgPicker(b); });
  } catch (e) { fail(e); }
}

// League and party members' hours of the year against the expectation,
// per organisation of the subtree.
let membersSeq = 0;
async function loadMemberHours(id) {
  const seq = ++membersSeq;
  const box = $("#orgs-members");
  try {
    const r = await api(`/v1/orgs/${id}/member-hours?year=${$("#orgs-year").value}`);
    if (seq !== membersSeq) return;
    box.textContent = "";
    box.append(el("h3", { text: `${t("members.title")} (${r.year})` }),
      el("p", { id: "members-summary" }, `${t("members.expected")}: ${fmt(r.expected_hours)} · ${t("members.members")}: ${fmt(r.members)} · ${t("members.met")}: ${fmt(r.met)}`));
    const rows = [];
    for (const o of r.orgs) {
      const name = el("td", { text: "…" });
      orgName(o.org_id).then((n) => { name.textContent = n; });
      rows.push(el("tr", { "data-org": o.org_id }, name, el("td", { class: "num", text: fmt(o.members) }), el("td", { class: "num", text: fmt(o.met) }),
        el("td", { text: o.below.map((b) => `${b.name} ${fmt(b.hours)}`).join("、") || "—" })));
    }
    box.append(table("members-table", ["org", "#members.members", "#members.met", "members.below"], rows));
  } catch (e) { box.textContent = ""; if (e.status !== 404 && e.status !== 405) fail(e); }
}

// Cards about to expire in an organisation's subtree.
async function loadExpiring() {
  const box = $("#expiring-result");
  const org = $("#expiring-org").value || (me.org_id ? String(me.org_id) : "");
  if (!org) { box.textContent = ""; box.append(el("p", { class: "error", text: t("pick") })); return; }
  try {
    const r = await api(`/v1/orgs/${org}/cards/expiring?within=${encodeURIComponent($("#expiring-within").value)}d`);
    box.textContent = "";
    if (!r.items.length) { box.append(el("p", { id: "expiring-none", text: t("expiring.none") })); return; }
    box.append(table("expiring-table", ["cards.pan", "cards.product", "expiring.through", "cards.state", "col.number"], r.items.map((c) =>
      el("tr", { "data-card": c.id }, el("td", { text: c.masked_pan }), el("td", { text: productName(c.product) }), el("td", { text: c.valid_through }),
        el("td", { text: L("card", c.state) }), el("td", { text: c.application_number })))));
  } catch (e) { fail(e); }
}

// Products and their BINs (read only until the product routes land).
async function loadProductsPage() {
  await loadProducts();
  const tbody = $("#products-table tbody"); tbody.textContent = "";
  for (const p of products) {
    const org = el("td", { text: "…" });
    orgName(p.org_id).then((n) => { org.textContent = n || "—"; });
    tbody.append(el("tr", { "data-product": p.code }, el("td", { text: p.code }), el("td", { text: p.name }), el("td", { text: p.bank }),
      el("td", { text: p.bin }), el("td", { text: L("card_kind", p.kind) }), org,
      el("td", {}, el("button", { type: "button", "data-edit-product": p.code }, t("edit")))));
  }
}

// Bank links' health and the bank requests (failed ones first), with
// retry and cancel.
let breqCursor = "", breqSeq = 0;
async function loadBanks() {
  const tbody = $("#banks-table tbody");
  try {
    const r = await api("/v1/admin/banks");
    tbody.textContent = "";
    for (const b of r.items) {
      const up = b.linked && b.signed_on > 0;
      tbody.append(el("tr", { "data-bank": b.bank }, el("td", { text: b.bank }),
        el("td", {}, el("span", { class: "pill " + (up ? "green" : b.linked ? "red" : ""), text: up ? t("banks.up") : b.linked ? t("banks.down") : t("banks.nolink") })),
        el("td", { class: "num", text: `${b.signed_on} / ${b.connections}` }), el("td", { text: when(b.last_echo) }),
        el("td", { class: "num", text: fmt(b.queue_depth) }), el("td", { class: "num failed", text: fmt(b.failed_requests) })));
    }
  } catch (e) { if (e.status === 404 || e.status === 405) tbody.textContent = t("unavailable"); else fail(e); }
  await loadBankRequests();
}
async function loadBankRequests(more) {
  const seq = ++breqSeq;
  const tbody = $("#breq-table tbody");
  const q = new URLSearchParams({ limit: "50" });
  if ($("#breq-state").value) q.set("state", $("#breq-state").value);
  if ($("#breq-kind").value) q.set("kind", $("#breq-kind").value);
  if (more && breqCursor) q.set("cursor", breqCursor);
  try {
    const r = await api("/v1/admin/bank-requests?" + q);
    if (seq !== breqSeq) return;
    if (!more) tbody.textContent = "";
    breqCursor = r.next_cursor || "";
    $("#breq-more").hidden = !breqCursor;
    if (!r.items.length && !more) tbody.append(el("tr", {}, el("td", { colspan: "9", text: t("banks.none") })));
    for (const b of r.items) {
      const acts = el("td", { class: "actions" });
      if (b.state === "failed") {
        acts.append(el("button", { type: "button", "data-breq": b.id, "data-act": "retry" }, t("banks.retry")), " ",
          el("button", { type: "button", "data-breq": b.id, "data-act": "cancel" }, t("banks.cancel")));
      }
      tbody.append(el("tr", { "data-breq": b.id }, el("td", { class: "num", text: String(b.id) }), el("td", { text: L("bank_kind", b.kind) }),
        el("td", { "data-code": b.state, text: L("bank_request", b.state) }), el("td", { text: b.application_number }),
        el("td", { text: b.card_last_four || "—" }), el("td", { class: "num", text: String(b.attempts) }),
        el("td", { text: [b.result_code, b.last_error].filter((x) => x).join(" · ") || "—" }), el("td", { text: when(b.updated_at) }), acts));
    }
    $("#breq-table").dataset.key = q.toString();
  } catch (e) { if (e.status === 404 || e.status === 405) tbody.textContent = t("unavailable"); else fail(e); }
}
async function bankRequestAction(id, act) {
  const reason = await askReason(t("banks." + act) + " #" + id, act === "cancel");
  if (reason === null) return;
  try {
    const r = await api(`/v1/admin/bank-requests/${id}/${act}`, { method: "POST", json: reason ? { reason } : {} });
    toast(t("done") + ": #" + r.id + " " + L("bank_request", r.state));
    loadBanks();
  } catch (e) { fail(e); }
}

// Reconciliations with the banks, each with its differences to download.
let reconCursor = "";
async function loadRecon(more) {
  const tbody = $("#recon-table tbody");
  const q = new URLSearchParams({ limit: "50" });
  if (more && reconCursor) q.set("cursor", reconCursor);
  try {
    const r = await api("/v1/admin/reconciliations?" + q);
    if (!more) tbody.textContent = "";
    reconCursor = r.next_cursor || "";
    $("#recon-more").hidden = !reconCursor;
    if (!r.items.length && !more) tbody.append(el("tr", {}, el("td", { colspan: "8", text: t("recon.none") })));
    for (const x of r.items) {
      tbody.append(el("tr", { "data-recon": x.id }, el("td", { class: "num", text: String(x.id) }), el("td", { text: x.bank_code }),
        el("td", { text: x.business_date }), el("td", { class: "num", text: fmt(x.bank_cards) }), el("td", { class: "num", text: fmt(x.volcard_cards) }),
        el("td", { class: "num", text: fmt(x.matched) }), el("td", { class: "num differences", text: fmt(x.differences) }),
        el("td", {}, el("button", { type: "button", "data-recon": x.id, "data-fmt": "csv" }, t("recon.download") + " CSV"), " ",
          el("button", { type: "button", "data-recon": x.id, "data-fmt": "xlsx" }, "XLSX"))));
    }
  } catch (e) { if (e.status === 404 || e.status === 405) tbody.textContent = t("unavailable"); else fail(e); }
}
async function saveAs(path, name) {
  try {
    const res = await api(path, { raw: true });
    const blob = await res.blob();
    const a = el("a", { href: URL.createObjectURL(blob), download: name });
    document.body.append(a); a.click(); a.remove();
  } catch (e) { fail(e); }
}

// ---- Staff pages of issue 19 (organisation edits, target rules, products,
// branches, tokens and terminals, the audit log, volunteer edits, instant
// issuance, the hotline, roster templates and second uploads). The routes
// are in docs/staff-api.md; docs/console.md maps them to these pages.
const contactText = (c) => (c && c.name ? `${c.name}${c.position ? "（" + c.position + "）" : ""} ${c.phone || ""}`.trim() : "—");
const chinaEndOfDay = (d) => `${d}T23:59:59+08:00`;

// Organisation edits: contacts (province and organisation admins); figures
// and the instant-issuance policy (province admin). Only what changed is
// sent; a contact is sent whole. The audit trail follows (province admin).
let orgEditing = null;
function fillOrgEdit(o) {
  orgEditing = o;
  const f = $("#org-edit"); f.hidden = false;
  const set = (id, v) => { $(id).value = v === undefined || v === null ? "" : String(v); };
  const r = o.responsible || {}, l = o.liaison || {};
  set("#org-edit-resp", r.name); set("#org-edit-resp-pos", r.position); set("#org-edit-resp-phone", "");
  set("#org-edit-liaison", l.name); set("#org-edit-liaison-pos", l.position); set("#org-edit-liaison-phone", "");
  $("#org-edit-resp-phone").placeholder = r.phone || "—"; $("#org-edit-liaison-phone").placeholder = l.phone || "—";
  set("#org-edit-population", o.resident_population || ""); set("#org-edit-pop-year", o.population_year || "");
  set("#org-edit-league", o.league_members || "");
  $("#org-edit-instant").checked = !!o.instant_issuance;
  const dd = document.querySelector('#org-card dd[data-k="orgs.instant"]');
  if (!dd) $("#org-card").append(el("dt", { text: t("orgs.instant") }), el("dd", { "data-k": "orgs.instant", text: o.instant_issuance ? "✓" : "—" }));
  if (me.role === PA) loadAudit({ subject: "org", subject_id: String(o.id) }, $("#org-audit"));
}
async function saveOrgEdit() {
  const o = orgEditing; if (!o) return;
  const v = (id) => $(id).value.trim();
  const body = {};
  // A contact whose phone is left empty keeps the stored one only if the
  // name is unchanged too: the API replaces a contact whole, so a changed
  // contact needs its phone again.
  for (const [k, pre] of [["responsible", "#org-edit-resp"], ["liaison", "#org-edit-liaison"]]) {
    const old = o[k] || {};
    const c = { name: v(pre), position: v(pre + "-pos"), phone: v(pre + "-phone") };
    if (c.name !== (old.name || "") || c.position !== (old.position || "") || c.phone) body[k] = c;
  }
  if (me.role === PA) {
    const num = (id, key) => { const x = v(id); if (x !== "" && Number(x) !== (o[key] || 0)) body[key] = Number(x); };
    num("#org-edit-population", "resident_population"); num("#org-edit-pop-year", "population_year"); num("#org-edit-league", "league_members");
    if ($("#org-edit-instant").checked !== !!o.instant_issuance) body.instant_issuance = $("#org-edit-instant").checked;
  }
  if (!Object.keys(body).length) { toast(t("voledit.nothing")); return; }
  try {
    const n = await api("/v1/orgs/" + o.id, { method: "PATCH", json: body });
    toast(t("saved") + ": " + n.name);
    childCache.clear();
    await loadOrgDetail();
  } catch (e) { fail(e); }
}

// The audit log (province admin): filters subject, subject id and kind,
// newest first, paged by cursor. With a box, one subject's trail.
let auditCursor = "", auditFilter = {};
async function loadAudit(filter, box, more) {
  const page = !box;
  if (page && !more) {
    auditFilter = {};
    for (const [k, id] of [["subject", "#audit-subject"], ["subject_id", "#audit-subject-id"], ["kind", "#audit-kind"]]) if ($(id).value.trim()) auditFilter[k] = $(id).value.trim();
  }
  const q = new URLSearchParams(filter || auditFilter);
  if (page && more && auditCursor) q.set("cursor", auditCursor);
  box = box || $("#audit-result");
  try {
    const r = await api("/v1/admin/audit?" + q);
    const rows = r.items.map((a) => el("tr", { "data-audit": a.id, "data-kind": a.kind }, el("td", { text: when(a.at) }), el("td", { text: a.kind }),
      el("td", { text: `${a.subject} ${a.subject_id}` }), el("td", { text: `${L("role", a.actor_role)} #${a.actor_token_id}` }), el("td", { text: a.detail || "" })));
    if (!(page && more)) {
      box.textContent = "";
      if (!page) box.append(el("h3", { text: t("nav.audit") }));
      box.append(table(page ? "audit-table" : "org-audit-table", ["at", "audit.kind", "audit.subject", "by", "audit.detail"], rows));
      if (!rows.length) box.append(el("p", { class: "sub", text: t("audit.none") }));
    } else box.querySelector("tbody").append(...rows);
    if (page) { auditCursor = r.next_cursor || ""; $("#audit-more").hidden = !auditCursor; }
  } catch (e) { fail(e); }
}

// Target rules of the picked year (any year), and the province admin's
// form to set one for the organisation picked on the dashboard.
let rulesSeq = 0;
async function loadTargetRules() {
  const seq = ++rulesSeq;
  const box = $("#target-rules");
  try {
    const r = await api("/v1/targets?year=" + $("#targets-year").value);
    if (seq !== rulesSeq) return;
    box.textContent = "";
    box.append(el("h3", { text: `${t("rules.title")} (${$("#targets-year").value})` }));
    if (!r.items.length) { box.append(el("p", { class: "sub", id: "rules-none", text: t("rules.none") })); return; }
    box.append(table("rules-table", ["rules.scope", "rules.kind", "rules.indicator", "#rules.pct", "rules.note"], r.items.map((x) => {
      const scope = el("td", { text: "…" });
      orgName(x.scope_org_id).then((n) => { scope.textContent = n; });
      return el("tr", { "data-rule": x.id, "data-indicator": x.indicator }, scope, el("td", { text: x.org_kind ? L("org_kind", x.org_kind) : t("all") }),
        el("td", { text: t("ind." + x.indicator) }), el("td", { class: "num", text: (x.target_bp / 100).toFixed(2) }), el("td", { text: x.note || "" }));
    })));
  } catch (e) { box.textContent = ""; if (e.status !== 403) fail(e); }
}
async function putTarget() {
  const scope = Number($("#targets-org").value || 0);
  const body = { year: Number($("#targets-year").value), scope_org_id: scope, org_kind: $("#target-kind").value,
    indicator: $("#target-ind").value, target_bp: Math.round(Number($("#target-pct").value) * 100), note: $("#target-note").value.trim() };
  try {
    await api("/v1/targets", { method: "PUT", json: body });
    toast(t("saved"));
    await loadTargets();
  } catch (e) { fail(e); }
}
function fillTargetSelects() {
  const ind = $("#target-ind"), keep = ind.value;
  ind.textContent = "";
  for (const i of INDICATORS) ind.append(el("option", { value: i }, t("ind." + i)));
  if (keep) ind.value = keep;
  const kind = $("#target-kind"), k2 = kind.value;
  kind.textContent = "";
  kind.append(el("option", { value: "" }, t("all")));
  for (const k of ["province", "city", "county", "university"]) kind.append(el("option", { value: k }, L("org_kind", k)));
  kind.value = k2;
}

// Products: the form takes a product to edit or a new code.
function editProduct(code) {
  const p = products.find((x) => x.code === code); if (!p) return;
  for (const k of ["code", "name", "bank", "bin", "aid"]) $("#product-" + k).value = p[k] || "";
  $("#product-kind").value = p.kind;
  $("#product-name").focus();
}
async function putProduct() {
  const v = (k) => $("#product-" + k).value.trim();
  const body = { name: v("name"), bank: v("bank"), bin: v("bin"), aid: v("aid"), kind: $("#product-kind").value };
  if ($("#product-org").value) body.org_id = Number($("#product-org").value);
  try {
    const p = await api("/v1/products/" + encodeURIComponent(v("code")), { method: "PUT", json: body });
    toast(t("saved") + ": " + p.name);
    await loadProductsPage();
  } catch (e) { fail(e); }
}

// Branches of the banks (bank staff: their bank's, read only), each with
// its contact; the province admin creates them and edits their contact.
let branches = [];
async function loadBranches() {
  const tbody = $("#branches-table tbody");
  try {
    branches = (await api("/v1/branches")).items || [];
    tbody.textContent = "";
    for (const b of branches) {
      const city = el("td", { text: "…" });
      orgName(b.org_id).then((n) => { city.textContent = n; });
      tbody.append(el("tr", { "data-branch": b.id }, el("td", { class: "num", text: String(b.id) }), el("td", { text: b.bank }), el("td", { text: b.name }),
        city, el("td", { text: contactText(b.contact) }),
        el("td", {}, me.role === PA ? el("button", { type: "button", "data-edit-branch": b.id }, t("edit")) : "")));
    }
    tbody.dataset.loaded = String(branches.length);
  } catch (e) { fail(e); }
}
function branchForm(id) {
  $("#branch-id").value = id ? String(id) : "";
  $("#branch-form-title").textContent = t(id ? "branches.edit" : "branches.new");
  document.querySelectorAll("#branch-form .new-only").forEach((n) => { n.hidden = !!id; });
  const b = branches.find((x) => x.id === id);
  const c = (b && b.contact) || {};
  $("#branch-contact").value = c.name || ""; $("#branch-position").value = c.position || ""; $("#branch-phone").value = "";
  $("#branch-phone").placeholder = c.phone || "";
  (id ? $("#branch-contact") : $("#branch-bank")).focus();
}
async function saveBranch() {
  const id = Number($("#branch-id").value || 0);
  const contact = { name: $("#branch-contact").value.trim(), position: $("#branch-position").value.trim(), phone: $("#branch-phone").value.trim() };
  try {
    if (id) await api("/v1/branches/" + id, { method: "PATCH", json: { contact } });
    else await api("/v1/branches", { method: "POST", json: { bank: $("#branch-bank").value.trim(), name: $("#branch-name").value.trim(),
      org_id: Number($("#branch-org").value), contact } });
    toast(t("saved"));
    branchForm(0); $("#branch-bank").value = ""; $("#branch-name").value = "";
    await loadBranches();
  } catch (e) { fail(e); }
}

// Tokens and terminals: list (never a secret), issue (the secret shown
// once), change the expiry, revoke.
let tokenSeq = 0;
async function loadTokens() {
  const seq = ++tokenSeq;
  const q = new URLSearchParams();
  if ($("#tokens-role").value) q.set("role", $("#tokens-role").value);
  if ($("#tokens-inactive").checked) q.set("inactive", "true");
  const tbody = $("#tokens-table tbody");
  try {
    const r = await api("/v1/admin/tokens?" + q);
    if (seq !== tokenSeq) return;
    tbody.textContent = "";
    for (const x of r.items) {
      const scope = el("td", { text: [x.bank, x.branch_id ? "#" + x.branch_id : ""].filter(Boolean).join(" ") || "—" });
      if (x.org_id) orgName(x.org_id).then((n) => { scope.textContent = [n, x.bank].filter(Boolean).join(" "); });
      const acts = el("td", { class: "actions" });
      if (x.state !== "revoked") acts.append(el("button", { type: "button", "data-token": x.id, "data-act": "expiry" }, t("tokens.expiry")), " ",
        el("button", { type: "button", "data-token": x.id, "data-act": "revoke" }, t("tokens.revoke")));
      tbody.append(el("tr", { "data-token": x.id, "data-state": x.state }, el("td", { class: "num", text: String(x.id) }), el("td", { text: x.name }),
        el("td", { text: L("role", x.role) }), scope, el("td", { text: x.hint + "…" }), el("td", { text: when(x.created_at) }),
        el("td", { text: x.expires_at ? when(x.expires_at) : t("tokens.never") }), el("td", { text: t("token_state." + x.state) }), acts));
    }
    tbody.dataset.loaded = String(Date.now());
  } catch (e) { fail(e); }
}
async function createToken() {
  const v = (id) => $(id).value.trim();
  const body = { name: v("#token-name"), role: $("#token-role").value };
  if (v("#token-org")) body.org_id = Number(v("#token-org"));
  if (v("#token-bank")) body.bank = v("#token-bank");
  if (v("#token-branch")) body.branch_id = Number(v("#token-branch"));
  if (v("#token-expires")) body.expires_at = chinaEndOfDay(v("#token-expires"));
  try {
    const r = await api("/v1/admin/tokens", { method: "POST", json: body });
    const box = $("#token-secret"); box.textContent = ""; box.hidden = false;
    box.append(el("p", { text: t("tokens.secret") }), el("code", { id: "token-secret-value", tabindex: "0", text: r.token }));
    $("#token-new").reset(); $("#token-role").value = r.role;
    orgPicker($("#token-orgpick")); // the picker and its hidden value start again together
    await loadTokens();
    $("#token-secret-value").focus();
  } catch (e) { fail(e); }
}
async function tokenAction(id, act) {
  try {
    if (act === "revoke") {
      const reason = await askReason(t("tokens.revoke"), false);
      if (reason === null) return;
      await api(`/v1/admin/tokens/${id}/revoke`, { method: "POST", json: reason ? { reason } : {} });
      toast(t("tokens.revoked"));
    } else {
      const d = await askReason(t("tokens.expiry_prompt"), false);
      if (d === null) return;
      if (d && !/^\d{4}-\d{2}-\d{2}$/.test(d)) { toast(t("tokens.expiry_prompt")); return; }
      await api(`/v1/admin/tokens/${id}`, { method: "PATCH", json: { expires_at: d ? chinaEndOfDay(d) : null } });
      toast(t("saved"));
    }
    $("#token-secret").hidden = true;
    await loadTokens();
  } catch (e) { fail(e); }
}

// Volunteer edits on the People page: phone, a name correction with its
// reason, a move to another organisation (admins, picked by name).
function showVolunteerEdit() {
  const f = $("#vol-edit"); f.hidden = false;
  $("#vol-edit-phone").value = ""; $("#vol-edit-name").value = ""; $("#vol-edit-reason").value = "";
  $("#vol-edit-phone").placeholder = volShown.phone || "";
  $("#vol-edit-name").placeholder = volShown.name || "";
}
async function saveVolunteerEdit() {
  const v = (id) => $(id).value.trim();
  const body = {};
  if (v("#vol-edit-phone")) body.phone = v("#vol-edit-phone");
  if (v("#vol-edit-name")) { body.name = v("#vol-edit-name"); body.name_reason = v("#vol-edit-reason"); }
  if (me.role !== BS && v("#vol-edit-org") && Number(v("#vol-edit-org")) !== volShown.org_id) body.org_id = Number(v("#vol-edit-org"));
  if (!Object.keys(body).length) { toast(t("voledit.nothing")); return; }
  if (body.name && !body.name_reason) { toast(t("voledit.reason")); $("#vol-edit-reason").focus(); return; }
  try {
    const n = await api("/v1/volunteers/" + volShown.id, { method: "PATCH", json: body });
    toast(t("saved") + ": " + n.name);
    volShown = n;
    const box = $("#vol-result"); box.textContent = ""; box.append(personCard(n));
    showVolunteerEdit();
  } catch (e) { fail(e); }
}

// Instant issuance at the counter: offered on a submitted walk-in of this
// branch when the organisation or an ancestor has the policy; otherwise
// the page says why the application waits.
const policyCache = new Map();
async function instantPolicy(orgID) {
  if (!policyCache.has(orgID)) {
    policyCache.set(orgID, (async () => {
      for (let id = orgID; id;) {
        const o = await api("/v1/orgs/" + id);
        if (o.instant_issuance) return true;
        id = o.parent_id;
      }
      return false;
    })().catch(() => false));
  }
  return policyCache.get(orgID);
}
async function walkinInstant(a) {
  const bar = $("#walkin-instant"), off = $("#walkin-instant-off");
  if (a.status !== "submitted" || !me.branch_id || a.channel !== "branch") { bar.hidden = true; off.hidden = true; return; }
  const ok = await instantPolicy(a.org_id);
  bar.hidden = !ok; off.hidden = ok;
  off.textContent = ok ? "" : t("instant.off");
}
async function instantApprove() {
  try {
    const a = await api(`/v1/applications/${walkinApp}/instant-approve`, { method: "POST" });
    toast(t("instant.done") + ": " + a.number);
    $("#walkin-instant").hidden = true;
    await walkinPoll();
  } catch (e) {
    if (e.status === 403) { const off = $("#walkin-instant-off"); off.hidden = false; off.textContent = t("instant.off") + " (" + e.message + ")"; }
    fail(e);
  }
}

// The hotline's look-up: application number and ID number together; the
// answer is the progress and each card's state (never an ID number or PAN).
async function hotlineLookup() {
  const box = $("#hotline-result"); box.textContent = "";
  const q = new URLSearchParams({ application_number: $("#hotline-number").value.trim(), id_number: $("#hotline-idn").value.trim() });
  try {
    const r = await api("/v1/hotline/lookup?" + q);
    $("#hotline-idn").value = "";
    const dl = el("dl", { class: "card", id: "hotline-card" });
    for (const [k, v] of [["col.number", r.application_number], ["vol.name", r.name], ["col.product", r.product], ["col.status", L("status", r.status)],
      ["hotline.next", r.next ? L("status", r.next) : "—"], ["hotline.bank", r.bank || "—"], ["col.channel", L("channel", r.channel)], ["banks.updated", when(r.updated_at)]]) {
      dl.append(el("dt", { text: t(k) }), el("dd", { "data-k": k, text: String(v) }));
    }
    dl.dataset.status = r.status;
    box.append(dl, el("h3", { text: t("history") }), table("hotline-steps", ["col.status", "at"], (r.steps || []).map((s) =>
      el("tr", { class: s.done ? "done" : "" }, el("td", { text: L("status", s.status) + (s.done ? " ✓" : "") }), el("td", { text: s.at ? when(s.at) : "—" })))),
    el("h3", { text: t("cards.title") }), table("hotline-cards", ["hotline.last4", "cards.expiry", "cards.state"], (r.cards || []).map((c) =>
      el("tr", { "data-state": c.state }, el("td", { text: "…" + c.last_four }), el("td", { text: c.expiry }),
        el("td", { text: L("card", c.state) + (c.pending_change ? " · " + L("change", c.pending_change) : "") })))));
  } catch (e) {
    box.append(el("p", { class: "error", id: "hotline-error", text: e.status === 404 ? t("hotline.notfound") : e.status === 429 ? t("hotline.busy") : e.message }));
  }
}

// On-site uploads: every upload of the session with its mode and counts;
// a session with a roster asks append or replace before the next one.
function renderUploads(r) {
  const ups = r.uploads || [];
  $("#onsite-mode-box").hidden = !ups.length;
  $("#onsite-mode").required = !!ups.length;
  const box = $("#onsite-report");
  const old = box.querySelector("#onsite-uploads"); if (old) old.remove();
  if (!ups.length) return;
  const div = el("div", { id: "onsite-uploads" }, el("h3", { text: `${t("onsite.uploads")} · ${t("onsite.uploaded_rows")}: ${r.uploaded_rows}` }),
    table("uploads-table", ["#onsite.upload_no", "onsite.file", "onsite.upload_mode", "#onsite.rows", "#onsite.accepted", "#onsite.rejected", "#onsite.removed", "at"], ups.map((u) =>
      el("tr", { "data-upload": u.id, "data-mode": u.mode }, el("td", { class: "num", text: String(u.id) }), el("td", { text: u.filename || "" }),
        el("td", { text: t("upload_mode." + u.mode) }), el("td", { class: "num", text: String(u.rows) }), el("td", { class: "num", text: String(u.accepted) }),
        el("td", { class: "num", text: String(u.rejected) }), el("td", { class: "num", text: String(u.removed || 0) }), el("td", { text: when(u.at) })))));
  const f = box.querySelector("#onsite-counts");
  if (f) f.after(div); else box.prepend(div);
}

function wireStaffPages() {
  $("#hotline-form").addEventListener("submit", (ev) => { ev.preventDefault(); hotlineLookup(); });
  $("#walkin-instant-btn").addEventListener("click", instantApprove);
  $("#vol-edit").addEventListener("submit", (ev) => { ev.preventDefault(); saveVolunteerEdit(); });
  $("#org-edit").addEventListener("submit", (ev) => { ev.preventDefault(); saveOrgEdit(); });
  $("#target-put").addEventListener("submit", (ev) => { ev.preventDefault(); putTarget(); });
  $("#product-put").addEventListener("submit", (ev) => { ev.preventDefault(); putProduct(); });
  $("#products-table").addEventListener("click", (ev) => { const b = ev.target.closest("button[data-edit-product]"); if (b) editProduct(b.dataset.editProduct); });
  $("#branches-table").addEventListener("click", (ev) => { const b = ev.target.closest("button[data-edit-branch]"); if (b) branchForm(Number(b.dataset.editBranch)); });
  $("#branch-form").addEventListener("submit", (ev) => { ev.preventDefault(); saveBranch(); });
  $("#branch-new").addEventListener("click", () => branchForm(0));
  $("#tokens-refresh").addEventListener("click", loadTokens);
  for (const id of ["#tokens-role", "#tokens-inactive"]) $(id).addEventListener("change", loadTokens);
  $("#token-new").addEventListener("submit", (ev) => { ev.preventDefault(); createToken(); });
  $("#tokens-table").addEventListener("click", (ev) => { const b = ev.target.closest("button[data-token]"); if (b) tokenAction(b.dataset.token, b.dataset.act); });
  $("#audit-form").addEventListener("submit", (ev) => { ev.preventDefault(); loadAudit(); });
  $("#audit-more").addEventListener("click", () => loadAudit(null, null, true));
  document.querySelectorAll("button[data-template]").forEach((b) => b.addEventListener("click", () =>
    saveAs(`/v1/onsite-sessions/roster-template.${b.dataset.template}`, `roster-template.${b.dataset.template}`)));
}

// Targets dashboard.
function pct(v) {
  if (v === null || v === undefined) return "—";
  if (v === 0) return "0%";
  const p = v * 100;
  const digits = p < 0.01 ? 4 : p < 0.1 ? 3 : p < 10 ? 2 : 1;
  return p.toFixed(digits) + "%";
}

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
    loadTargetRules();
  } catch (e) { fail(e); }
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
  for (const st of STATUSES) box.append(el("div", { id: "funnel-" + st, title: st }, L("status", st), el("b", { text: fmt(f.by_status[st] || 0) })));
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
    box.append(el("div", { class: "scroll" }, el("table", {}, el("thead", {}, el("tr", {}, ...["col.volunteer", "checkins.in", "checkins.out", "checkins.minutes"].map((k) => el("th", { text: t(k) })))), tb)));
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
  } catch (e) { fail(e); }
}

// Wiring. Every control is a button, link or form field, so the console is
// used with the keyboard alone: Tab and Enter, Esc closes the reason dialog;
// Alt+1 … Alt+9 open the pages of the menu in order.
document.addEventListener("DOMContentLoaded", () => {
  const y = new Date().getFullYear();
  document.querySelectorAll("select.years").forEach((years) => {
    for (let x = 2017; x <= y; x++) years.append(el("option", {}, String(x)));
    years.value = String(y);
  });
  $("#hours-year").value = String(y);
  applyLang();
  $("#lang").addEventListener("click", () => {
    lang = lang === "zh" ? "en" : "zh"; localStorage.setItem("volcard.lang", lang); applyLang();
    if (me) show(current);
  });
  $("#signout").addEventListener("click", signOut);
  $("#signin-form").addEventListener("submit", (ev) => { ev.preventDefault(); signIn($("#token").value.trim()); });
  document.querySelectorAll("nav button").forEach((b) => b.addEventListener("click", () => {
    show(b.dataset.page);
    const h = $("#page-" + current + " h2"); if (h) h.focus();
  }));
  document.addEventListener("keydown", (ev) => {
    if (!ev.altKey || !me || ev.key < "1" || ev.key > "9") return;
    const shown = [...document.querySelectorAll("nav button")].filter((b) => !b.hidden);
    const b = shown[Number(ev.key) - 1];
    if (b) { ev.preventDefault(); b.click(); }
  });
  $("#queue-refresh").addEventListener("click", () => loadQueue());
  for (const id of ["#queue-status", "#queue-channel", "#queue-product", "#queue-org"]) $(id).addEventListener("change", () => loadQueue());
  $("#queue-more").addEventListener("click", () => loadQueue(true));
  $("#queue-table").addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-act]"); if (b) decide(b.dataset.act, b.dataset.id);
  });
  $("#walkin-find").addEventListener("submit", (ev) => { ev.preventDefault(); walkinFind($("#walkin-idn").value.trim()); });
  $("#walkin-register").addEventListener("submit", (ev) => { ev.preventDefault(); walkinRegister(); });
  $("#walkin-apply").addEventListener("submit", (ev) => { ev.preventDefault(); walkinApply(); });
  $("#vol-form").addEventListener("submit", (ev) => { ev.preventDefault(); findVolunteer($("#vol-id").value.trim()); });
  $("#vol-cards").addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-change]"); if (b) cardAction(b.dataset.card, b.dataset.change);
  });
  $("#onsite-new").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const s = await api("/v1/onsite-sessions", { method: "POST", json: { org_id: Number($("#onsite-org").value),
        site: $("#onsite-site").value, date: $("#onsite-date").value, expected_count: Number($("#onsite-count").value),
        product: $("#onsite-product").value } });
      renderSession(s);
      loadOnsiteList();
    } catch (e) { fail(e); }
  });
  $("#onsite-refresh").addEventListener("click", () => loadOnsiteList());
  $("#onsite-state").addEventListener("change", () => loadOnsiteList());
  $("#onsite-more").addEventListener("click", () => loadOnsiteList(true));
  $("#onsite-table").addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-open]"); if (b) loadSession(b.dataset.open);
  });
  $("#onsite-actions").addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-session-act]"); if (b) sessionAction(b.dataset.sessionAct);
  });
  $("#onsite-queue-load").addEventListener("click", loadOnsiteQueue);
  $("#onsite-rejected-dl").addEventListener("click", downloadRejected);
  $("#onsite-upload").addEventListener("submit", (ev) => { ev.preventDefault(); const f = $("#onsite-file").files[0]; if (f) uploadRoster(f); });
  $("#onsite-approve").addEventListener("click", async () => {
    try {
      const r = await api(`/v1/onsite-sessions/${onsiteSession}/approve`, { method: "POST" });
      toast(`${t("onsite.approved")}: ${r.approved}`);
      loadOnsiteReport();
      loadOnsiteList();
    } catch (e) { fail(e); }
  });
  $("#orgs-org").addEventListener("change", loadOrgDetail);
  $("#orgs-year").addEventListener("change", () => { if ($("#orgs-org").value) loadMemberHours($("#orgs-org").value); });
  $("#org-new").addEventListener("submit", (ev) => { ev.preventDefault(); createOrg(); });
  $("#hours-form").addEventListener("submit", (ev) => { ev.preventDefault(); addHours(); });
  wireStaffPages();
  $("#expiring-form").addEventListener("submit", (ev) => { ev.preventDefault(); loadExpiring(); });
  $("#banks-refresh").addEventListener("click", loadBanks);
  for (const id of ["#breq-state", "#breq-kind"]) $(id).addEventListener("change", () => loadBankRequests());
  $("#breq-more").addEventListener("click", () => loadBankRequests(true));
  $("#breq-table").addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-breq]"); if (b) bankRequestAction(b.dataset.breq, b.dataset.act);
  });
  $("#recon-more").addEventListener("click", () => loadRecon(true));
  $("#recon-table").addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-recon]");
    if (b) saveAs(`/v1/admin/reconciliations/${b.dataset.recon}/differences?format=${b.dataset.fmt}`, `reconciliation-${b.dataset.recon}.${b.dataset.fmt}`);
  });
  $("#targets-refresh").addEventListener("click", loadTargets);
  $("#targets-year").addEventListener("change", loadTargets);
  $("#targets-org").addEventListener("change", loadTargets);
  $("#checkins-form").addEventListener("submit", (ev) => { ev.preventDefault(); watchCheckins($("#checkins-activity").value); });
  // A mouse pick in the list box shows as a click (Chromium does not always
  // send change for it), the keyboard as change; either starts watching.
  const pick = () => { const v = $("#checkins-activity").value; if (v && v !== watching) watchCheckins(v); };
  for (const kind of ["change", "click"]) $("#checkins-activity").addEventListener(kind, pick);
  $("#checkins-reload").addEventListener("click", () => loadActivities());
  document.querySelectorAll("button[data-dl]").forEach((b) => b.addEventListener("click", () => download(b.dataset.dl, b.dataset.fmt)));
  if (token()) signIn(token()); else signOut();
});
