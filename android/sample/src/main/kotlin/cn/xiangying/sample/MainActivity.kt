// The sample app: enrols with a sync server (a URL and a one-time code typed in; the server set
// up with the sample street of bindings/testdata, the code from `admin issue-code psc1`),
// starts the sync engine with its Android wiring (connectivity, app foreground, WorkManager:
// SyncWiring), shows the engine's state line (SyncDisplay), the outbox and upload counts and
// the last success, with "sync now" (the engine's syncSoon) and "cancel" (cancelSync) buttons;
// reports a problem and shows the inbox (Xiangying.inboxFlow, which also hears what the
// engine's syncs changed); starts and ends a patrol whose track PatrolTrackingService records
// with the screen off. Written against the Android, Compose and androidx APIs; not compiled
// here (no Android SDK on the project's machines).
package cn.xiangying.sample

import android.Manifest
import android.content.Context
import android.os.Build
import android.os.Bundle
import androidx.activity.ComponentActivity
import androidx.activity.compose.rememberLauncherForActivityResult
import androidx.activity.compose.setContent
import androidx.activity.result.contract.ActivityResultContracts
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.material3.Button
import androidx.compose.material3.Card
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.collectAsState
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.unit.dp
import androidx.lifecycle.lifecycleScope
import cn.xiangying.SyncActivity
import cn.xiangying.SyncEngine
import cn.xiangying.Xiangying
import cn.xiangying.android.SyncWiring
import cn.xiangying.android.XiangyingProcess
import cn.xiangying.ffi.ApiException
import cn.xiangying.ffi.CaseSummary
import cn.xiangying.ffi.Datum
import cn.xiangying.ffi.GeoPoint
import cn.xiangying.ffi.PatrolPlace
import cn.xiangying.ffi.PatrolSummary
import cn.xiangying.ffi.Scope
import cn.xiangying.toDisplay
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.emptyFlow
import kotlinx.coroutines.flow.map
import kotlinx.coroutines.flow.onSubscription
import kotlinx.coroutines.launch

/** The process's engine and its wiring: started once after enrolment, kept across activities. */
object SampleSync {
    /** The running engine, once started. */
    val engine = MutableStateFlow<SyncEngine?>(null)
    private var wiring: SyncWiring? = null

    /** Starts the engine and wires it (main thread); a second call does nothing. */
    fun start(context: Context, store: Xiangying) {
        if (engine.value != null) return
        val e = store.startSyncEngine()
        wiring = SyncWiring(context, e)
        engine.value = e
    }
}

class MainActivity : ComponentActivity() {
    private val store = MutableStateFlow<Xiangying?>(null)
    private val enrolled = MutableStateFlow(false)

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        lifecycleScope.launch {
            val x = XiangyingProcess.store(applicationContext)
            store.value = x
            if (x.deviceId() != null) {
                enrolled.value = true
                SampleSync.start(applicationContext, x)
            }
        }
        setContent {
            MaterialTheme {
                val x = store.collectAsState().value
                val engine = SampleSync.engine.collectAsState().value
                Screen(x, enrolled.collectAsState().value, engine) { url, code ->
                    val s = x ?: return@Screen "本机存储尚未打开"
                    try {
                        val me = s.enrol(url, code, Build.MODEL ?: "Android")
                        enrolled.value = true
                        SampleSync.start(applicationContext, s)
                        "已注册：${me.person}"
                    } catch (e: ApiException.Unauthorised) {
                        "注册码无效或已使用"
                    } catch (e: ApiException.Network) {
                        "无法连接服务器：${e.detail}"
                    } catch (e: ApiException) {
                        e.message ?: e.toString()
                    }
                }
            }
        }
    }
}

@Composable
fun Screen(x: Xiangying?, enrolled: Boolean, engine: SyncEngine?, enrol: suspend (String, String) -> String) {
    val scope = rememberCoroutineScope()
    var text by remember { mutableStateOf("") }
    var status by remember { mutableStateOf("") }
    // 10.0.2.2 is the development machine as the emulator sees it.
    var url by remember { mutableStateOf("http://10.0.2.2:8470") }
    var code by remember { mutableStateOf("") }
    val inbox by remember(x, enrolled) {
        if (enrolled && x != null) x.inboxFlow() else emptyFlow<List<CaseSummary>>()
    }.collectAsState(initial = emptyList())

    Column(Modifier.fillMaxSize().padding(16.dp)) {
        Text("响应", style = MaterialTheme.typography.titleLarge)
        if (!enrolled) {
            OutlinedTextField(value = url, onValueChange = { url = it }, label = { Text("服务器地址") })
            OutlinedTextField(value = code, onValueChange = { code = it }, label = { Text("注册码") })
            Button(enabled = x != null, onClick = { scope.launch { status = enrol(url.trim(), code.trim()) } }) {
                Text("注册")
            }
        }
        if (engine != null) SyncCard(engine)
        if (enrolled && x != null) PatrolCard(x) { status = it }
        Text("上报问题", style = MaterialTheme.typography.titleMedium)
        OutlinedTextField(value = text, onValueChange = { text = it }, label = { Text("几句话说明问题") })
        Button(enabled = x != null && enrolled, onClick = {
            scope.launch {
                status = try {
                    x!!.report("020101", GeoPoint(lon = 0.05, lat = 0.05, datum = Datum.WGS84), text)
                    text = ""
                    "已上报"
                } catch (e: ApiException.InvalidInput) {
                    "${e.field}: ${e.problem}"
                } catch (e: ApiException) {
                    e.message ?: e.toString()
                }
            }
        }) { Text("上报") }
        Text(status)
        Text("待办 (${inbox.size})", style = MaterialTheme.typography.titleMedium)
        LazyColumn {
            items(inbox, key = { it.id }) { c ->
                Column(Modifier.padding(vertical = 4.dp)) {
                    Text(c.number ?: "未编号", style = MaterialTheme.typography.labelSmall)
                    Text(c.categoryName, style = MaterialTheme.typography.bodyLarge)
                    Text(c.description, style = MaterialTheme.typography.bodySmall)
                }
            }
        }
    }
}

/** The engine's state (空闲, 同步中, 离线, 等待重试 (code), 需要升级), the queues and the last success. */
@Composable
fun SyncCard(engine: SyncEngine) {
    val d = engine.status.collectAsState().value.toDisplay()
    Card(Modifier.fillMaxWidth().padding(vertical = 8.dp)) {
        Column(Modifier.padding(12.dp)) {
            Row {
                Text(d.label, style = MaterialTheme.typography.titleMedium, modifier = Modifier.weight(1f))
                if (d.activity == SyncActivity.SYNCING) {
                    // Stops the sync between two steps; what it did stays, the engine carries on.
                    Button(onClick = { engine.cancelSync() }) { Text("取消") }
                } else {
                    // The engine syncs by itself; this asks it to sync now (backoff included).
                    Button(onClick = { engine.syncSoon() }) { Text("立即同步") }
                }
            }
            d.detail?.let { Text(it, style = MaterialTheme.typography.bodySmall) }
            Text("待上传 ${d.outbox} · 待传照片 ${d.uploads}")
            Text(d.lastSuccessText())
        }
    }
}

/**
 * My patrol: start one on my grid or segment (a grid worker or a street chief), see its fixes
 * and distance grow while PatrolTrackingService records them (screen off included), end it;
 * after the process was killed, resume recording the patrol still under way.
 */
@Composable
fun PatrolCard(x: Xiangying, say: (String) -> Unit) {
    val context = LocalContext.current
    val scope = rememberCoroutineScope()
    val recording by PatrolTrackingService.running.collectAsState()
    // activePatrol() again after every change (each batch of fixes names the patrol).
    val active by remember(x) {
        x.changes.onSubscription { emit(emptyList()) }.map { x.activePatrol() }
    }.collectAsState(initial = null)

    suspend fun startOrResume() {
        try {
            val current = x.activePatrol()
            if (current != null) {
                PatrolTrackingService.start(context, current.id, current.startedAtMs)
                return
            }
            val place = when (val mine = x.me()?.scope) {
                is Scope.Grid -> PatrolPlace.Grid(mine.id)
                is Scope.Segment -> PatrolPlace.Segment(mine.id)
                else -> return say("只有网格员和街长可以巡查")
            }
            val id = x.startPatrol(place)
            PatrolTrackingService.start(context, id, x.patrol(id).startedAtMs)
            say("巡查已开始")
        } catch (e: ApiException) {
            say(e.message ?: e.toString())
        }
    }

    // Fine location for the track; on Android 13+ the notification permission too (without
    // it the service still runs, its notification only shows in the task manager).
    val permissions = buildList {
        add(Manifest.permission.ACCESS_FINE_LOCATION)
        add(Manifest.permission.ACCESS_COARSE_LOCATION)
        if (Build.VERSION.SDK_INT >= 33) add(Manifest.permission.POST_NOTIFICATIONS)
    }.toTypedArray()
    val ask = rememberLauncherForActivityResult(ActivityResultContracts.RequestMultiplePermissions()) { granted ->
        if (granted[Manifest.permission.ACCESS_FINE_LOCATION] == true) {
            scope.launch { startOrResume() }
        } else {
            say("需要“精确位置”权限才能记录巡查轨迹")
        }
    }

    Card(Modifier.fillMaxWidth().padding(vertical = 8.dp)) {
        Column(Modifier.padding(12.dp)) {
            val p: PatrolSummary? = active
            Row {
                Text(
                    when {
                        p == null -> "巡查"
                        recording == p.id -> "巡查中"
                        else -> "巡查未结束（未在记录）"
                    },
                    style = MaterialTheme.typography.titleMedium,
                    modifier = Modifier.weight(1f),
                )
                when {
                    p == null -> Button(onClick = { ask.launch(permissions) }) { Text("开始巡查") }
                    recording != p.id -> Button(onClick = { ask.launch(permissions) }) { Text("继续记录") }
                    else -> {}
                }
                if (p != null) {
                    Button(onClick = {
                        if (recording == p.id) {
                            PatrolTrackingService.end(context) // records the last fixes, then ends it
                        } else {
                            scope.launch {
                                say(try { x.endPatrol(p.id); "巡查已结束" } catch (e: ApiException) { e.message ?: e.toString() })
                            }
                        }
                    }) { Text("结束巡查") }
                }
            }
            if (p != null) Text("${p.points} 个定位点 · ${p.distanceM.toInt()} 米")
        }
    }
}
