"""Chinese and English strings of the working pages (dispatch, crew, trends, scenarios)."""

from __future__ import annotations

#: key → (zh, en)
STRINGS: dict[str, tuple[str, str]] = {
    # dispatch
    "dispatch_title": ("调度台", "Dispatch"),
    "queue": ("待办队列", "Queue"),
    "level": ("等级", "Level"),
    "type": ("类型", "Type"),
    "state": ("状态", "State"),
    "grid": ("网格", "Grid"),
    "crew": ("队伍", "Crew"),
    "deadline": ("剩余时间", "Time left"),
    "overdue": ("已超时", "overdue"),
    "no_tickets": ("没有待办工单", "No open tickets"),
    "no_data": ("暂无数据", "No data yet"),
    "round_text": (
        "{place} · {level}管理巡查 第 {k}/{n} 次 · 风险因素：{factors}",
        "{place} · level-{level} inspection, round {k} of {n} · risk factors: {factors}",
    ),
    "queue_incidents": ("事件工单", "Incidents"),
    "queue_rounds": ("巡查任务", "Inspection rounds"),
    "queue_all": ("全部", "All"),
    "queue_more": (
        "另有 {n} 条未列出（按紧急程度只列前 {limit} 条）",
        "{n} more not listed (the {limit} most urgent are shown)",
    ),
    "select_ticket": ("点击队列中的工单查看详情", "Pick a ticket in the queue"),
    "suggested": ("建议队伍", "Suggested crew"),
    "travel": ("路程", "travel"),
    "no_suggestion": ("没有可到达的空闲队伍", "No free crew can reach it"),
    "assign": ("派单", "Assign"),
    "reassign": ("改派", "Reassign"),
    "merge_into": ("合并到工单号", "Merge into ticket no."),
    "merge": ("合并", "Merge"),
    "escalate": ("上报", "Escalate"),
    "verify": ("核实", "Verify"),
    "close": ("办结", "Close"),
    "dismiss": ("作废", "Dismiss"),
    "history": ("处置记录", "History"),
    "reports": ("上报事件（网格员/居民）", "Reports (grid workers / residents)"),
    "no_reports": ("没有待分拣的上报", "No reports to triage"),
    "make_ticket": ("立案", "Open ticket"),
    "read_only": ("只读：您的角色不能修改", "Read only: your role cannot change anything"),
    "not_wired": ("调度服务尚未接入", "Dispatch service not available yet"),
    "done": ("已完成", "Done"),
    "escalate_na": ("手动上报尚不可用", "Manual escalation not available yet"),
    # crew
    "crew_title": ("我的工单", "My tickets"),
    "accept": ("接单", "Accept"),
    "arrive": ("已到场", "On site"),
    "resolve": ("已处置", "Resolved"),
    "note": ("处置说明", "Note"),
    "photo": ("现场照片", "Photo"),
    "queued": ("待发送", "queued"),
    "offline": ("离线：操作已保存，联网后自动发送", "Offline: actions saved, sent on reconnect"),
    "online": ("在线", "Online"),
    "route": ("路线（避开积水道路）", "Route (avoiding flooded roads)"),
    "new_dispatch": ("新派单！", "New dispatch!"),
    # trends
    "trends_title": ("趋势分析", "Trends"),
    "period": ("时段（周）", "Period (weeks)"),
    "place": ("地点", "Place"),
    "all": ("全部", "All"),
    "found_vs_handled": ("发现与处置", "Found vs handled"),
    "found": ("发现", "Found"),
    "handled": ("处置", "Handled"),
    "handling_rate": ("处置率", "Handling rate"),
    "times": ("平均用时（分钟）", "Mean times (min)"),
    "t_dispatch": ("派单", "to dispatch"),
    "t_accept": ("接单", "to accept"),
    "t_arrive": ("到场", "to arrive"),
    "t_close": ("办结", "to close"),
    "by": ("分组", "Group by"),
    "week": ("周", "Week"),
    "community": ("社区", "Community"),
    "league": ("网格排行（只读）", "Grid league table (read only)"),
    "csv": ("导出 CSV", "Export CSV"),
    "uptime": ("传感器在线率", "Sensor uptime"),
    "inspections_na": ("巡查数据尚不可用", "Inspections not available yet"),
    # scenarios
    "scenarios_title": ("情景推演", "Scenarios"),
    "scenario": ("情景", "Scenario"),
    "rain_scale": ("雨量倍数", "Rain scale"),
    "run_to_see": ("选择情景并点击“运行”后在此显示影响", "Run a scenario to see its impact here"),
    "duration_min": ("时长（分钟）", "Duration (min)"),
    "return_period": ("重现期（年）", "Return period (years)"),
    "wind": ("风速 m/s", "Wind m/s"),
    "ignition": ("起火建筑", "Ignition building"),
    "run": ("运行", "Run"),
    "progress": ("进度", "Progress"),
    "time_step": ("时间", "Time"),
    "baseline": ("基线", "Baseline"),
    "result": ("推演结果", "Scenario"),
    "affected": ("影响", "Affected"),
    "save": ("保存", "Save"),
    "briefing": ("导出简报", "Export briefing"),
    "saved": ("已保存", "Saved"),
    "sandbox": (
        "推演在孪生副本上运行，不影响实时预警和工单",
        "Runs on a copy of the twin: live warnings and tickets are untouched",
    ),
}

LEVEL_NAMES = {
    "red": ("红色", "Red"),
    "orange": ("橙色", "Orange"),
    "yellow": ("黄色", "Yellow"),
    "blue": ("蓝色", "Blue"),
}
STATE_NAMES = {
    "reported": ("待派", "reported"),
    "dispatched": ("已派", "dispatched"),
    "accepted": ("已接", "accepted"),
    "on_site": ("到场", "on site"),
    "resolved": ("已处置", "resolved"),
    "verified": ("已核实", "verified"),
    "closed": ("已办结", "closed"),
    "dismissed": ("已作废", "dismissed"),
    "merged": ("已合并", "merged"),
}
#: the steps of a ticket's history (lifecycle actions, escalate, relevel)
ACTION_NAMES = {
    "create": ("创建", "created"),
    "dispatch": ("派单", "dispatched"),
    "reassign": ("改派", "reassigned"),
    "reject": ("退单", "rejected"),
    "accept": ("接单", "accepted"),
    "arrive": ("到场", "arrived"),
    "resolve": ("处置完成", "resolved"),
    "reject_fix": ("处置不合格", "fix rejected"),
    "verify": ("核实", "verified"),
    "close": ("办结", "closed"),
    "reopen": ("重新打开", "reopened"),
    "merge": ("合并", "merged"),
    "dismiss": ("作废", "dismissed"),
    "escalate": ("上报", "escalated"),
    "relevel": ("预警升级", "level raised"),
}
CREW_STATE_NAMES = {
    "free": ("空闲", "free"),
    "busy": ("执行中", "busy"),
    "off_duty": ("休班", "off duty"),
}
ROLE_NAMES = {
    "operator": ("调度员", "operator"),
    "manager": ("主管", "manager"),
    "leader": ("领导", "leader"),
    "crew": ("处置队伍", "crew"),
    "admin": ("管理员", "admin"),
    "system": ("系统", "system"),
}
TYPE_NAMES = {
    "water": ("水务", "water"),
    "power": ("电力", "power"),
    "gas": ("燃气", "gas"),
    "fire": ("火灾", "fire"),
    "medical": ("医疗", "medical"),
    "general": ("综合", "general"),
}


#: the factors of a building's inspection score (:mod:`twin.events.inspections`)
ROUND_FACTOR_NAMES = {
    "fire_load": ("火灾荷载", "fire load"),
    "use": ("人员难以自行疏散", "occupants who cannot self-evacuate"),
    "age": ("建筑年代", "building age"),
    "fire_resistance": ("耐火等级", "fire resistance"),
    "occupancy": ("人员密集", "occupancy"),
    "vulnerable": ("独居老人与残障人士", "vulnerable residents"),
    "past_hazards": ("既往隐患", "past hazards"),
}
#: management levels 1-4 of the inspection rule
ROUND_LEVEL_NAMES = {"1": ("一级", "1"), "2": ("二级", "2"), "3": ("三级", "3"), "4": ("四级", "4")}


def tr(key: str, lang: str = "zh", table: dict[str, tuple[str, str]] | None = None) -> str:
    """The string ``key`` in ``lang`` (``"zh"`` or ``"en"``); the key itself if unknown.

    >>> tr("assign", "en"), tr("red", "zh", LEVEL_NAMES)
    ('Assign', '红色')
    """
    pair = (table or STRINGS).get(key)
    if pair is None:
        return key
    return pair[1] if lang == "en" else pair[0]
