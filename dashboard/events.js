// dashboard/events.js - filled in by the next commit
