// The sample app: sets the device up as street chief psc1 of the sample street, reports a
// problem, shows the inbox (refreshed through Xiangying.inboxFlow), and has a sync button
// that says sync arrives with the server.
package cn.xiangying.sample

import android.os.Bundle
import androidx.activity.ComponentActivity
import androidx.activity.compose.setContent
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.material3.AlertDialog
import androidx.compose.material3.Button
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.collectAsState
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.unit.dp
import androidx.lifecycle.lifecycleScope
import cn.xiangying.Xiangying
import cn.xiangying.ffi.ApiException
import cn.xiangying.ffi.CaseSummary
import cn.xiangying.ffi.GeoPoint
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.emptyFlow
import kotlinx.coroutines.launch
import java.io.File

class MainActivity : ComponentActivity() {
    private val store = MutableStateFlow<Xiangying?>(null)

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        lifecycleScope.launch {
            @Suppress("DEPRECATION")
            val version = packageManager.getPackageInfo(packageName, 0).versionName ?: "dev"
            val x = Xiangying.open(File(filesDir, "xiangying"), appVersion = version)
            if (x.me() == null) {
                x.installOrg(
                    assets.open("sample-roster.json").bufferedReader().readText(),
                    assets.open("sample-catalogue.json").bufferedReader().readText(),
                )
                x.setPerson("psc1")
            }
            store.value = x
        }
        setContent { MaterialTheme { Screen(store.collectAsState().value) } }
    }
}

@Composable
fun Screen(x: Xiangying?) {
    val scope = rememberCoroutineScope()
    var text by remember { mutableStateOf("") }
    var status by remember { mutableStateOf("") }
    var showSync by remember { mutableStateOf(false) }
    val inbox by remember(x) { x?.inboxFlow() ?: emptyFlow() }.collectAsState(initial = emptyList<CaseSummary>())

    Column(Modifier.fillMaxSize().padding(16.dp)) {
        Row {
            Text("响应 · 上报问题", style = MaterialTheme.typography.titleLarge, modifier = Modifier.weight(1f))
            Button(onClick = { showSync = true }) { Text("同步") }
        }
        OutlinedTextField(value = text, onValueChange = { text = it }, label = { Text("几句话说明问题") })
        Button(enabled = x != null, onClick = {
            scope.launch {
                status = try {
                    x!!.report("020101", GeoPoint(lon = 0.05, lat = 0.05), text)
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
                    Text(c.categoryName, style = MaterialTheme.typography.bodyLarge)
                    Text(c.description, style = MaterialTheme.typography.bodySmall)
                }
            }
        }
    }
    if (showSync) {
        AlertDialog(
            onDismissRequest = { showSync = false },
            confirmButton = { TextButton(onClick = { showSync = false }) { Text("好") } },
            title = { Text("同步功能将随同步服务器一起提供") },
            text = { Text("Sync arrives with the sync server; until then cases stay on this phone.") },
        )
    }
}
