package bankgw_test

import (
	"fmt"

	"github.com/volcard/volcard/bankgw"
)

func ExamplePrivateData_Encode() {
	s, _ := bankgw.PrivateData{bankgw.TagApplicationNumber: "GD-0001", bankgw.TagName: "张三"}.Encode()
	fmt.Println(s)
	// Output: AN007GD-0001NM006张三
}
